"""Reading a reply into follow-up rows (pipeline.inbox.parse): the ways people type on phones."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, strategies as st

from pipeline.inbox.authorise import failed_checks
from pipeline.inbox.days import parse_day
from pipeline.inbox.parse import parse_reply

SENT = date(2026, 12, 1)          # a Tuesday
IDS = {"C0015", "C0016", "00123"}
LABELS = {"method": ("方式", "Method"), "content": ("内容", "Content"), "need": ("需求", "Need"),
          "expected_close": ("预计成交", "Expected close"), "satisfaction": ("满意度", "Satisfaction"),
          "next_follow_up": ("下次跟进", "Next follow-up")}


@pytest.mark.parametrize("typed, expected", [
    ("今天", date(2026, 12, 1)), ("明天", date(2026, 12, 2)), ("后天", date(2026, 12, 3)),
    ("下周一", date(2026, 12, 7)), ("下星期五", date(2026, 12, 11)), ("下礼拜天", date(2026, 12, 13)),
    ("周五", date(2026, 12, 4)), ("星期二", date(2026, 12, 8)), ("3天后", date(2026, 12, 4)),
    ("12-20", date(2026, 12, 20)), ("12/20", date(2026, 12, 20)), ("12.20", date(2026, 12, 20)),
    ("12月20日", date(2026, 12, 20)), ("12月20号", date(2026, 12, 20)), ("１２月２０日", date(2026, 12, 20)),
    ("1-5", date(2027, 1, 5)), ("11-25", date(2026, 11, 25)),
    ("2026-12-20", date(2026, 12, 20)), ("2026/12/20", date(2026, 12, 20)), ("2026.12.20", date(2026, 12, 20)),
    ("2026年12月20日", date(2026, 12, 20)), ("20261220", date(2026, 12, 20)), ("２０２６－１２－２０", date(2026, 12, 20)),
    ("tomorrow", date(2026, 12, 2)), ("next Monday", date(2026, 12, 7)), ("today", date(2026, 12, 1)),
    ("2-30", None), ("下周八", None), ("12-20-2026", None), ("03/05/2026", None), ("明年", None),
])
def test_dates_as_people_type_them(typed, expected):
    assert parse_day(typed, SENT) == expected


ROW = {"date": SENT, "customer_id": "C0015", "method": "电话", "content": "谈了下季度机油", "need": "明确",
       "expected_close": date(2026, 12, 20), "satisfaction": None, "next_follow_up": None}


@pytest.mark.parametrize("subject, body, changes", [
    ("x", "C0015 电话 谈了下季度机油 明确 12-20", {}),
    ("x", "c0015 电话 谈了下季度机油 明确 12-20", {}),
    ("x", "Ｃ００１５　电话　谈了下季度机油　明确　１２－２０", {}),
    ("x", "C0015 明确 12-20 电话 谈了下季度机油", {}),
    ("x", "C0015 谈了下季度机油 电话 明确 12月20日", {}),
    ("x", "C0015 电话 谈了下季度机油 明确 12-20 下周一 满意度4",
     {"next_follow_up": date(2026, 12, 7), "satisfaction": 4.0}),
    ("x", "C0015 电话 谈了下季度机油 下周一", {"need": None, "expected_close": None,
                                                "next_follow_up": date(2026, 12, 7)}),
    ("x", "C0015 电话 谈了下季度机油 明确 预计成交:12-20 4分", {"satisfaction": 4.0}),
    ("记录跟进 C0015 中山佳美", "方式：电话\n内容：谈了下季度机油\n需求：明确\n预计成交：12-20\n满意度：\n下次跟进：\n", {}),
    ("记录跟进 C0015", "方式:电话\n内容:谈了下季度机油\n需求:明确\n预计成交:12-20", {}),
    ("记录跟进 C0015", "方式 电话\n内容 谈了下季度机油\n需求 明确\n预计成交 12-20", {}),
    ("记录跟进 C0015", "预计成交：12-20\n需求：明确\n内容：谈了下季度机油\n方式：电话", {}),
    ("记录跟进 C0015", "方式：电话\n需求明确\n预计成交：12月20日\n内容：谈了下季度机油", {}),
    ("hello", "客户编号：C0015\n方式：电话\n内容：谈了下季度机油\n需求：明确\n预计成交：12-20", {}),
    ("Record follow-up C0015", "Method: phone\nContent: talked oil\nNeed: clear\nExpected close: 12-20",
     {"method": "phone", "content": "talked oil"}),
    ("记录跟进 C0015", "方式：电话\n内容：谈了下季度机油，\n客户要报价\n需求：明确\n预计成交：12-20",
     {"content": "谈了下季度机油， 客户要报价"}),
    ("Re: 今日跟进", "C0015 电话 谈了下季度机油 明确 12-20\n\n发自我的iPhone\n\n"
     "在 2026年12月1日 06:30，客户跟进助手 写道：\nC0016 电话 不该读 明确 12-21\n", {}),
    ("Re: 今日跟进", "C0015 电话 谈了下季度机油 明确 12-20\n> C0016 电话 引用 明确 12-21\n", {}),
    ("Re: 今日跟进", "C0015 电话 谈了下季度机油 明确 12-20\n-----原始邮件-----\nC0016 电话 x\n", {}),
    ("Re: 今日跟进", "C0015 电话 谈了下季度机油 明确 12-20\nOn Tue, Dec 1, 2026 someone wrote:\nC0016 x\n", {}),
])
def test_one_row_whichever_way_it_is_typed(subject, body, changes):
    reply = parse_reply(subject, body, SENT, IDS, LABELS)
    assert reply.not_understood == ()
    assert reply.rows == ({**ROW, **changes},)


@pytest.mark.parametrize("subject, body, code", [
    ("x", "C9999 电话 谈了", "unknown_customer"),
    ("x", "好的，收到", "nothing_found"),
    ("记录跟进 C0015", "方式：\n内容：\n需求：\n", "nothing_found"),
    ("记录跟进", "方式：电话\n内容：谈了", "no_customer"),
    ("记录跟进 C0015", "内容：谈了\n需求：很想要", "bad_need"),
    ("记录跟进 C0015", "内容：谈了\n下次跟进：过几天", "bad_date"),
    ("记录跟进 C0015", "内容：谈了\n满意度：9", "bad_satisfaction"),
    ("x", "C0015 谈了 满意度9", "bad_satisfaction"),
])
def test_what_cannot_be_read_is_said_not_guessed(subject, body, code):
    reply = parse_reply(subject, body, SENT, IDS, LABELS)
    assert code in [c for _, c in reply.not_understood]


def test_several_customers_one_line_each():
    reply = parse_reply("Re: 今日跟进", "C0015 电话 谈了 明确 12-20\nC0016 拜访 送样品\n00123 微信 报价", SENT, IDS, LABELS)
    assert [(r["customer_id"], r["method"], r["content"]) for r in reply.rows] == [
        ("C0015", "电话", "谈了"), ("C0016", "拜访", "送样品"), ("00123", "微信", "报价")]


@given(st.permutations(["电话", "谈了下季度机油", "明确 12-20", "满意度4", "下周一"]))
def test_free_words_in_any_order_give_the_same_fields(words):
    # "明确 12-20" stays a pair: a date right after the need word is the expected close.
    reply = parse_reply("x", "C0015 " + " ".join(words), SENT, IDS, LABELS)
    (row,) = reply.rows
    assert (row["method"], row["content"], row["need"], row["expected_close"], row["satisfaction"],
            row["next_follow_up"]) == ("电话", "谈了下季度机油", "明确", date(2026, 12, 20), 4.0, date(2026, 12, 7))


@given(st.text(max_size=200))
def test_any_text_gives_rows_or_reasons_never_an_exception(body):
    reply = parse_reply("记录跟进 C0015", body, SENT, IDS, LABELS)
    assert reply.rows or reply.not_understood


@pytest.mark.parametrize("headers, failed", [
    (["mx.example.com; dkim=pass; spf=pass; dmarc=pass"], []),
    (["mx.example.com; dkim=fail (bad signature) header.d=x; spf=pass"], ["dkim"]),
    (["mx.example.com; spf=softfail smtp.mailfrom=x"], ["spf"]),
    (["mx.example.com; DMARC=FAIL"], ["dmarc"]),
    (["a; dkim=pass", "b; spf=fail"], ["spf"]),
    (["mx.example.com; dkim=none; spf=neutral"], []),
    ([], []),
])
def test_a_failing_authentication_result_is_seen(headers, failed):
    assert failed_checks(headers) == failed
