"""Rendering the morning emails (issue #5): what the rep and the 主管 read."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import jinja2
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import Config, LocaleConfig
from pipeline.mail.compose import (
    RepCounts,
    _environment,
    owner_email,
    phone_numbers,
    rep_counts,
    rep_email,
    writeback_note,
)
from pipeline.model import RepDay
from tests.mail_fixtures import FIGURES, PROBLEMS, build_state, task

ENGLISH = replace(Config(), locale=LocaleConfig(language="en"))
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def test_customer_name_is_escaped_in_html():
    evil = '<script>alert("x")</script> & 兄弟汽修'
    state = build_state(names={"C001": evil})
    email = rep_email(state.days[0], state, Config())
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; 兄弟汽修" in email.html
    assert evil in email.text   # plain text is not HTML: the name reads as typed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from('<>&"\'/=;:!- abc宏达汽修'), min_size=1, max_size=30))
def test_any_customer_name_stays_text(name):
    state = build_state(names={"C002": name})
    email = rep_email(state.days[0], state, Config())
    page = lxml.html.document_fromstring(email.html)
    assert not page.xpath("//script")
    titles = [" ".join(d.text_content().split()) for d in page.xpath("//div[starts-with(normalize-space(), '2.')]")]
    assert any(" ".join(f"2. {name}".split()) in t for t in titles)


def test_rep_email_subject_counts_and_order():
    state = build_state()
    email = rep_email(state.days[0], state, Config())
    assert email.subject == "【今日跟进】王强 · 11月23日 · 3位客户（另有2位待明天）"
    assert (email.to, email.to_name, email.kind, email.key) == (
        "wangqiang@shop.example", "王强", "rep", "2026-11-23/rep/王强")
    # 顺风车队 is due and has a birthday: one card with both reasons, counted once (issue #14).
    assert "今天要联系 3 位客户：逾期 1，今天到期 1，挽回 1；其中 1 位还要问候。" in email.text
    assert "另有 2 位客户超出今天的上限，明天优先安排" in email.text
    order = [email.text.index(s) for s in ("1. 宏达汽修厂", "2. 顺风车队 [B] [问候]", "3. 老李轮胎店")]
    assert order == sorted(order) and "4. " not in email.text
    assert email.text.count("生日（农历十月初五） · 11月25日，记得问候") == 1
    assert "还有2天" not in email.text          # the greeting's line says it; not again as a reason
    assert email.text.count("顺风车队") == 1
    # A hint shared by several tasks is said once, after a label that does not repeat it.
    assert email.text.count("记下对方要的品牌和数量") == 1
    assert email.html.count("记下对方要的品牌和数量") == 1
    assert "每位客户联系后：记下对方要的品牌和数量" in email.text


def test_rep_email_is_for_a_phone():
    state = build_state()
    html = rep_email(state.days[0], state, Config()).html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html
    assert "<table" not in html
    page = lxml.html.document_fromstring(html)
    assert [a.get("href") for a in page.xpath("//a")][:2] == ["tel:13800138001", "tel:075588880001"]


def test_rep_email_tells_how_to_record_with_the_shops_headers():
    state = build_state()
    text = rep_email(state.days[0], state, Config()).text
    assert "「跟进记录」表" in text
    assert "日期、客户编号、业务员、方式" in text and "下次跟进" in text


def test_plain_text_has_no_html():
    state = build_state(figures=FIGURES)
    for email in (rep_email(state.days[0], state, Config()),
                  owner_email(state.days[3], state, PROBLEMS, {}, Config())):
        assert not HTML_TAG.search(email.text), email.kind
        assert "\n\n\n" not in email.text


def test_a_foreign_customer_in_a_reps_list_is_a_bug():
    state = build_state()
    wrong = RepDay("王强", "w@x", "业务员", (task("C001"), task("C004")))
    with pytest.raises(ValueError, match="C004"):
        rep_email(wrong, state, Config())


def test_empty_day_still_renders():
    state = build_state()
    email = rep_email(RepDay("陈刚", "c@x", "业务员", ()), state, Config())
    assert "今天无到期客户" in email.subject
    assert "今天没有到期要联系的客户" in email.text


def test_undefined_variable_is_an_error():
    with pytest.raises(jinja2.UndefinedError):
        _environment().get_template("zh/rep.html.j2").render({"rep": "王强"})


def test_rep_counts_per_rep():
    # Friday 20th is the previous working day: rows of the 20th-22nd count, the 19th and
    # today's do not; a row without a rep counts for the customer's rep.
    state = build_state()
    assert rep_counts(state, date(2026, 11, 20)) == [
        # The day's counts are each rep's own email's: the win-back is not also "overdue",
        # the birthday of a customer already due is not a second customer (issue #14).
        RepCounts("王强", overdue=1, due=1, win_back=1, care=0, waiting=2, done_yesterday=1,
                  risk_high=0, risk_medium=1),
        RepCounts("李娜", overdue=1, due=1, win_back=0, care=0, waiting=0, done_yesterday=2,
                  risk_high=1, risk_medium=0),
        RepCounts("陈刚", overdue=0, due=1, win_back=0, care=0, waiting=0, done_yesterday=0,
                  risk_high=0, risk_medium=0),
        RepCounts("", overdue=1, due=1, win_back=0, care=0, waiting=0, done_yesterday=0,
                  risk_high=0, risk_medium=0),
    ]


def test_owner_summary_contents():
    state = build_state(figures=FIGURES)
    facts = {"writeback": {"status": "skipped", "reason": "台账正被打开，没有回写"},
             "failed_deliveries": [{"to": "lina@shop.example", "name": "李娜", "error": "550 no"}],
             "register": "客户台账.xlsx"}
    email = owner_email(state.days[3], state, PROBLEMS, facts, Config())
    assert email.subject == "【每日汇总】11月23日 · 到期4 · 逾期3 · 未分配2 · 数据问题2 · 1封邮件未送达"
    assert (email.to, email.kind, email.key) == ("boss@shop.example", "owner", "2026-11-23/owner/张总")
    text = email.text
    assert "今天要联系：逾期 3，今天到期 4，挽回 1，问候 0，顺延 2；上个工作日以来已跟进 3；未分配客户（全部）2。" in text
    assert "王强：逾期 1，今天到期 1，挽回 1，问候 0，顺延 2，已跟进 1，流失风险 高 0 / 中 1" in text
    assert "张总：" not in text   # a 主管 with nothing to count gets no line
    assert "恒通4S店" in text and "台账上的业务员：赵六" in text
    assert "台账正被打开，没有回写" in text
    assert "李娜（lina@shop.example）：550 no" in text
    assert "平时约每7天进货一次，已有23天未进货" in text
    assert "前20%客户贡献的销售额 62%" in text and "逾期欠款 ¥12,345（2 位客户）" in text
    assert text.index("「销售」第 12 行") < text.index("「客户」第 5 行"), "errors first"


def test_owner_summary_without_figures_omits_them():
    state = build_state()
    email = owner_email(state.days[3], state, [], {}, Config())
    assert "关键数字" not in email.text and "关键数字" not in email.html
    assert "台账里要改的地方" not in email.text
    assert "【每日汇总】11月23日 · 到期4 · 逾期3 · 未分配2" == email.subject


def test_owner_email_shows_a_days_worth_of_unassigned_tasks():
    state = build_state()
    boss = state.days[3]
    many = replace(boss, unassigned=tuple(replace(t, customer_id=f"{t.customer_id}-{n}")
                                          for n in range(20) for t in boss.unassigned))
    config = replace(Config(), tasks=replace(Config().tasks, daily_cap=5))
    email = owner_email(many, state, [], {}, config)
    shown = len(boss.unassigned) * 20 - 5
    assert f"另有 {shown} 条未分配客户的任务" in email.text
    assert "== 跟进（5） ==" in email.text
    assert len(re.findall(r"^\d+\. ", email.text, re.M)) == 5


def test_english_is_selectable():
    state = build_state(figures=FIGURES)
    rep = rep_email(state.days[0], state, ENGLISH)
    owner = owner_email(state.days[3], state, PROBLEMS, {}, ENGLISH)
    assert rep.subject == "[Today's follow-ups] 王强 · 23 Nov · 3 customers (+2 tomorrow)"
    assert owner.subject.startswith("[Daily summary] 23 Nov · 4 due · 3 overdue")
    assert "早上好" not in rep.text + rep.html + owner.text + owner.html
    assert "Good morning, 王强!" in rep.text and 'lang="en"' in rep.html


@pytest.mark.parametrize("cell, numbers", [
    ("13800138000", ["13800138000"]),
    ("13800138000/0755-12345678", ["13800138000", "0755-12345678"]),
    ("13800138000；400-800-1234", ["13800138000", "400-800-1234"]),
    ("", []),
])
def test_phone_numbers(cell, numbers):
    assert phone_numbers(cell) == numbers


@pytest.mark.parametrize("writeback, note", [
    ({}, ""),
    ({"status": "written", "reason": ""}, ""),
    ({"status": "unchanged", "reason": ""}, ""),
    ({"status": "refused", "reason": "台账正被王强打开"}, "台账正被王强打开"),
    ({"status": "skipped", "reason": ""}, "skipped"),
])
def test_writeback_note(writeback, note):
    assert writeback_note(writeback) == note
