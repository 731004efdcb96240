"""What the shop reads every morning agrees with itself (issue #14), read as a user's program would.

The demo shop is built with pipeline.demo and the whole run goes through the command line;
the emails are read back with the ``email`` package, the workbooks with openpyxl.
"""
from __future__ import annotations

import email
import json
import re
from datetime import date
from email import policy
from pathlib import Path

import lxml.html
import openpyxl
import pytest

from pipeline.cli import main
from pipeline.demo import write_demo_register

MONDAY = "2026-11-23"
PARTS = {"逾期": "overdue", "今天到期": "due", "挽回": "win_back", "问候": "care"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def run_demo(tmp: Path, day: str, config: str = "", *, dry_run: bool = True) -> Path:
    register = tmp / "客户台账.xlsx"
    if not register.exists():
        write_demo_register(register, date.fromisoformat(day))
    (tmp / "config.toml").write_text("[register]\ncreate_demo_if_missing = false\n" + config, encoding="utf-8")
    args = ["--config", str(tmp / "config.toml"), "--register", str(register), "--output", str(tmp / "out"),
            "--date", day] + (["--dry-run"] if dry_run else [])
    assert main(args, environ={}) == 0
    return tmp / "out" / day / ("dry-run" if dry_run else "")


def register_of(day_dir: Path) -> Path:
    """The register a run_demo folder was made from."""
    return next(p for p in day_dir.parents if (p / "客户台账.xlsx").exists()) / "客户台账.xlsx"


def read_eml(path: Path):
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return (str(message["Subject"]), message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def rep_email_counts(text: str) -> dict:
    """The counts a rep reads at the top of their email, and what the list below holds."""
    found = re.search(r"今天要联系 (\d+) 位客户：(.*?)(?:；其中 (\d+) 位还要问候)?。", text)
    counts = dict.fromkeys(PARTS.values(), 0)
    for label, number in re.findall(r"(逾期|今天到期|挽回|问候) (\d+)", found.group(2)):
        counts[PARTS[label]] = int(number)
    waiting = re.search(r"另有 (\d+) 位客户超出今天的上限", text)
    return {"customers": int(found.group(1)), **counts, "with_greeting": int(found.group(3) or 0),
            "waiting": int(waiting.group(1)) if waiting else 0,
            "cards": len(re.findall(r"^\d+\. ", text, re.M)),
            "ids": re.findall(r"^\d+\. .*编号 (\S+)$", text, re.M)}


def owner_rows(text: str) -> dict[str, dict]:
    rows = {}
    for rep, line in re.findall(r"^  (\S+)：(逾期 .*)$", text, re.M):
        values = dict(re.findall(r"(逾期|今天到期|挽回|问候|顺延) (\d+)", line))
        rows[rep] = {PARTS.get(k, "waiting"): int(v) for k, v in values.items()}
    return rows


@pytest.fixture(scope="module")
def monday(tmp_path_factory):
    # A cap of 12 puts some customers over it, so 顺延 is counted too.
    return run_demo(tmp_path_factory.mktemp("monday"), MONDAY, "[tasks]\ndaily_cap = 12\n")


def test_every_surface_counts_the_same_customers(monday):
    facts = json.loads((monday / "summary.json").read_text(encoding="utf-8"))
    per_rep = facts["notes"]["tasks_per_rep"]
    _, owner_text, _ = read_eml(monday / "outbox" / "owner-陈总.eml")
    table = owner_rows(owner_text)
    reps = [p.stem.removeprefix("rep-") for p in sorted((monday / "outbox").glob("rep-*.eml"))]
    assert sorted(reps) == sorted(["王强", "李娜", "张伟", "刘洋"])
    merged = 0
    for rep in reps:
        subject, text, html = read_eml(monday / "outbox" / f"rep-{rep}.eml")
        mine = rep_email_counts(text)
        parts = {k: mine[k] for k in ("overdue", "due", "win_back", "care", "waiting")}
        # The parts add up, one card per customer, no customer twice.
        assert mine["overdue"] + mine["due"] + mine["win_back"] + mine["care"] == mine["customers"], rep
        assert mine["cards"] == mine["customers"] == len(set(mine["ids"])) == len(mine["ids"]), rep
        assert f"{mine['customers']}位客户" in subject
        assert f"今天要联系 <strong>{mine['customers']}</strong> 位客户" in html
        # The 主管's table and summary.json say the same as the rep's own email.
        assert table[rep] == parts, rep
        assert {k: per_rep[rep][k] for k in (*parts, "customers", "with_greeting")} == \
            {**parts, "customers": mine["customers"], "with_greeting": mine["with_greeting"]}, rep
        merged += mine["with_greeting"]
    assert merged >= 1, "the demo shop has a customer due for a follow-up with a birthday"
    assert sum(r["waiting"] for r in table.values()) >= 1, "the cap of 12 leaves customers waiting"


def test_a_customer_with_a_follow_up_and_a_birthday_gets_one_card_with_both(monday):
    for path in sorted((monday / "outbox").glob("rep-*.eml")):
        _, text, _ = read_eml(path)
        cards = re.split(r"\n(?=\d+\. )", text)
        both = [c for c in cards if "[问候]" in c.splitlines()[0]]
        for card in both:
            assert re.search(r"已逾期 \d+ 天|今天到期|挽回老客户", card)
            assert re.search(r"^   (生日|\S*节)\S* · .*，记得问候$", card, re.M), card
        if both:
            return
    pytest.fail("no merged card found")


def test_the_reps_count_is_the_working_reps(monday, tmp_path, capsys):
    book = openpyxl.load_workbook(register_of(monday), read_only=True)
    rows = list(book["业务员"].iter_rows(min_row=2, values_only=True))
    working = [r for r in rows if r[2] == "业务员" and r[3] != "否"]
    assert len(rows) == 6 and len(working) == 4           # the 主管 and the rep who left are not counted
    run_demo(tmp_path, MONDAY)
    assert "业务员 4 人" in capsys.readouterr().out
    facts = json.loads((tmp_path / "out" / MONDAY / "dry-run" / "summary.json").read_text(encoding="utf-8"))
    assert facts["notes"]["reps_working"] == 4


def test_wechat_is_on_the_card_to_copy(monday):
    book = openpyxl.load_workbook(register_of(monday), read_only=True)
    rows = list(book["客户"].iter_rows(values_only=True))
    header = list(rows[0])
    wechat = {str(r[0]): str(r[header.index("微信号")]) for r in rows[1:]
              if r[0] and r[header.index("微信号")]}
    _, text, html = read_eml(monday / "outbox" / "rep-王强.eml")
    ids = rep_email_counts(text)["ids"]
    with_wechat = [i for i in ids if i in wechat]
    assert with_wechat, "some of 王强's customers have a 微信号"
    page = lxml.html.document_fromstring(html)
    for cid in with_wechat:
        assert f"\n   微信号：{wechat[cid]}\n" in text          # its own line in the plain text
        [span] = [s for s in page.xpath("//span") if s.text_content() == wechat[cid]]
        assert "monospace" in span.get("style") and "user-select:all" in span.get("style")
        assert not span.xpath("ancestor::a")                    # no link: long-press copies it
        assert span.getparent().text_content().startswith("微信号")


@pytest.mark.parametrize("day, when, subject", [
    ("2026-11-20", "下个工作日（11月23日 星期一）", "待星期一"),    # a Friday
    ("2026-09-30", "下个工作日（10月8日 星期四）", "待星期四"),     # before the 国庆 week
    ("2026-11-24", "明天", "待明天"),                             # a Tuesday
])
def test_the_overflow_waits_for_the_next_working_day(tmp_path, day, when, subject):
    out = run_demo(tmp_path, day, "[tasks]\ndaily_cap = 5\n")
    subjects, texts = [], []
    for path in sorted((out / "outbox").glob("rep-*.eml")):
        s, t, h = read_eml(path)
        subjects.append(s)
        texts.append(t + h)
    over = [t for t in texts if "超出今天的上限" in t]
    assert over, "a cap of 5 leaves every rep customers over it"
    assert all(f"超出今天的上限，{when}优先安排" in t for t in over)
    assert all(subject in s for s in subjects if "另有" in s)
    if when != "明天":
        assert not any("明天优先安排" in t for t in texts)


ENGLISH = '[locale]\nlanguage = "en"\n'


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    # A real run (not --dry-run): the computed columns are written back into the register.
    return run_demo(tmp_path_factory.mktemp("english"), MONDAY, ENGLISH + "[tasks]\ndaily_cap = 12\n",
                    dry_run=False)


def test_english_emails_count_in_english(english):
    texts = []
    for path in sorted((english / "outbox").glob("*.eml")):
        subject, text, html = read_eml(path)
        texts.append(subject + text + lxml.html.document_fromstring(html).text_content())
    words = "\n".join(texts)
    assert "Grade A: due every day" in words                       # not "every 1 days"
    assert re.search(r"every \d+ days", words)
    for wrong in ("every 1 days", " 1 days", " 1 greetings", "record: Afterwards", "record: Add",
                  "Afterwards, record: A"):
        assert wrong not in words, wrong
    assert not re.search(r"\b1 (more are|customers)\b", words)
    assert "After each contact: Add a row" in words


def test_the_register_keeps_its_own_words_when_the_emails_are_english(english):
    book = openpyxl.load_workbook(register_of(english), read_only=True)
    rows = list(book["客户"].iter_rows(values_only=True))
    header = list(rows[0])

    def column(name):
        return {r[header.index(name)] for r in rows[1:] if r[0]} - {None}

    assert column("重点客户") == {"是", "否"}
    assert column("流失风险") == {"高", "中", "低"}
    assert column("客户状态") == {"潜在", "现实", "流失"}
    reasons = column("风险原因")
    assert reasons and all(CJK.search(r) for r in reasons)
    assert not any("Grade" in r or "orders" in r for r in reasons)
    report = openpyxl.load_workbook(english / "report.xlsx", read_only=True)
    customers = list(report["Customers"].iter_rows(values_only=True))
    head = list(customers[0])
    assert {r[head.index("重点客户")] for r in customers[1:]} == {"是", "否"}
    assert all(CJK.search(r[head.index("风险原因")]) for r in customers[1:] if r[head.index("风险原因")])
    # The report's own sheets are in the configured language.
    risks = list(report["Churn risks"].iter_rows(values_only=True))
    reason = next(i for i, h in enumerate(risks[0]) if "reason" in str(h).lower())
    assert not CJK.search(risks[1][reason])


def test_the_terminals_problem_counts_add_up(tmp_path, capsys):
    """错误 + 警告 + 提示 = the total the same line gives (the demo has a 提示, a blank row)."""
    run_demo(tmp_path, MONDAY)
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("数据问题"))
    total, *parts = map(int, re.findall(r"\d+", line))
    assert len(parts) == 3 and sum(parts) == total and parts[2] >= 1, line
