"""The 「记录跟进」 link (pipeline.mail.inbox_mail): a mailto: a phone mail app opens filled in."""
from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from pipeline import messages
from pipeline.mail.inbox_mail import record_link


@pytest.mark.parametrize("language, subject, body", [
    ("zh", "记录跟进 C0015 A&B 汽修 #1 100% ?好", "方式：\r\n内容：\r\n需求：\r\n预计成交：\r\n满意度：\r\n下次跟进：\r\n"),
    ("en", "Record follow-up C0015 A&B 汽修 #1 100% ?好",
     "Method: \r\nContent: \r\nNeed: \r\nExpected close: \r\nSatisfaction: \r\nNext follow-up: \r\n"),
])
def test_the_link_carries_subject_and_labelled_body_percent_encoded(language, subject, body):
    messages.set_language(language)
    link = record_link("gen.jin+crm@shop.example", "C0015", "A&B 汽修 #1 100% ?好")
    assert link.isascii() and " " not in link and "\n" not in link and "+" not in link.split("?", 1)[1]
    target = urlsplit(link)
    assert (target.scheme, unquote(target.path)) == ("mailto", "gen.jin+crm@shop.example")
    query = parse_qs(target.query)
    assert set(query) == {"subject", "body"}
    assert (query["subject"][0], query["body"][0]) == (subject, body)
