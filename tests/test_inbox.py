"""Reps' replies by email into the register, against a real IMAP server (pymap) on 127.0.0.1.

Each test builds a small register, delivers replies into the mailbox with IMAP APPEND,
runs ``run.py`` (in-process through pipeline.cli.main, or as a real process where one
is killed), and reads the register back with python-calamine and the zip's parts.
"""
from __future__ import annotations

import datetime as dt
import email
import json
import os
import re
import subprocess
import sys
import zipfile
from email import policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import python_calamine
import xlsxwriter

from pipeline.cli import main
from tests.imap_server import PASSWORD, USER, deliver, folder_subjects, imap_server, reply
from tests.register_builder import CUSTOMER_HEADER, FOLLOWUP_HEADER, ORDER_HEADER, REPS_HEADER, customer

ROOT = Path(__file__).resolve().parent.parent
DAY, NEXT_DAY = "2026-11-30", "2026-12-01"
SENT = dt.datetime(2026, 11, 30, 15, 20)
WANG, LI, BOSS, LEFT = "wangqiang@example.com", "lina@example.com", "boss@example.com", "zhaolei@example.com"
REPS = [["王强", WANG, "业务员", "是"], ["李娜", LI, "业务员", "是"], ["陈总", BOSS, "主管", "是"],
        ["赵磊", LEFT, "业务员", "否"]]


@pytest.fixture(scope="module")
def server():
    with imap_server() as port:
        yield port


@pytest.fixture
def port(server):
    """The server, its mailbox emptied of every folder's messages."""
    from tests.imap_server import mailbox
    with mailbox(server) as box:
        for folder in box.folder.list():
            box.folder.set(folder.name)
            uids = [m.uid for m in box.fetch(mark_seen=False, headers_only=True)]
            if uids:
                box.delete(uids)
    return server


def customers():
    return [customer("C0001", "宝安鸿达汽修", "王强", 需求="明确", 预计成交=dt.date(2026, 12, 10)),
            customer("C0002", "南山顺发配件", "李娜", 需求="潜在"),
            customer("C0003", "龙岗永安快修", "王强", 需求="潜在")]


def build(path: Path, *, log: str = "plain", reps: list | None = None) -> Path:
    """A small register; ``log``: "plain", "table" (跟进记录 is an Excel table) or "none";
    ``reps``: the 业务员 rows (default REPS)."""
    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": dt.datetime(2026, 1, 1)})
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        sheets = {"客户": [CUSTOMER_HEADER, *customers()],
                  "销售": [ORDER_HEADER, [dt.date(2026, 10, 1), "C0001", "S1", 1200.0, 1200.0, None]],
                  "业务员": [REPS_HEADER, *(REPS if reps is None else reps)]}
        followups = [[dt.date(2026, 11, 2), "C0001", "王强", "电话", "问了机油价格", "明确", dt.date(2026, 12, 10), 4, None]]
        for name, rows in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    _cell(sheet, r, c, value, dates)
            if name == "客户" and log != "none":
                sheet_log = book.add_worksheet("跟进记录")
                if log == "table":
                    sheet_log.add_table(0, 0, len(followups), len(FOLLOWUP_HEADER) - 1, {
                        "name": "FollowUps", "columns": [{"header": h} for h in FOLLOWUP_HEADER]})
                for r, row in enumerate([FOLLOWUP_HEADER, *followups]):
                    for c, value in enumerate(row):
                        _cell(sheet_log, r, c, value, dates)
    return path


def _cell(sheet, r, c, value, dates):
    if value is None:
        return
    if isinstance(value, dt.date):
        sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
    elif isinstance(value, (int, float)):
        sheet.write_number(r, c, value)
    else:
        sheet.write_string(r, c, value)


def config(tmp: Path, port: int, extra: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text(f"""
[register]
path = "register.xlsx"
create_demo_if_missing = false
[inbox]
address = "followup@shop.example"
host = "127.0.0.1"
port = {port}
security = "none"
user = "{USER}"
password_env = "TEST_INBOX_PASSWORD"
{extra}
""", encoding="utf-8")
    return path


def run(tmp: Path, day: str = NEXT_DAY) -> int:
    return main(["--config", str(tmp / "config.toml"), "--date", day],
                environ={"TEST_INBOX_PASSWORD": PASSWORD})


def log_rows(path: Path, sheet: str = "跟进记录") -> list[list]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def customer_row(path: Path, cid: str) -> dict:
    rows = log_rows(path, "客户")
    return next(dict(zip(rows[0], r)) for r in rows[1:] if r[0] == cid)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def journal(tmp: Path) -> list[dict]:
    lines = (tmp / "output" / "inbox" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def outbox_text(tmp: Path, day: str, name: str) -> str:
    msg = email.message_from_bytes((tmp / "output" / day / "outbox" / f"{name}.eml").read_bytes(),
                                   policy=policy.default)
    return msg.get_body(("plain",)).get_content()


def summary(tmp: Path, day: str = NEXT_DAY) -> dict:
    return json.loads((tmp / "output" / day / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture
def shop(tmp_path, port):
    build(tmp_path / "register.xlsx")
    config(tmp_path, port)
    return tmp_path


def settled(tmp: Path) -> bytes:
    """Run the day once with an empty mailbox so the computed columns are in place."""
    assert run(tmp) == 0
    return (tmp / "register.xlsx").read_bytes()


# --- a good reply, from the link in the morning email ------------------------------------

def link_target(tmp: Path, day: str, rep: str, cid: str) -> tuple[str, str, str]:
    """(to, subject, body) of the 「记录跟进」 link on ``cid``'s card in ``rep``'s .eml."""
    msg = email.message_from_bytes((tmp / "output" / day / "outbox" / f"rep-{rep}.eml").read_bytes(),
                                   policy=policy.default)
    assert msg["Reply-To"] == "followup@shop.example"
    links = re.findall(r'href="(mailto:[^"]+)"', msg.get_body(("html",)).get_content())
    link = next(l.replace("&amp;", "&") for l in links if cid in parse_qs(urlsplit(l.replace("&amp;", "&")).query)["subject"][0])
    target = urlsplit(link)
    query = parse_qs(target.query)
    return target.path, query["subject"][0], query["body"][0]


def test_a_reply_from_the_link_is_recorded_regraded_and_shown_next_morning(shop, port):
    assert run(shop, DAY) == 0
    to, subject, body = link_target(shop, DAY, "王强", "C0001")
    assert to == "followup@shop.example" and "C0001" in subject
    assert body == "方式：\r\n内容：\r\n需求：\r\n预计成交：\r\n满意度：\r\n下次跟进：\r\n"
    filled = (body.replace("方式：", "方式：电话").replace("内容：", "内容：客户说明年再说，今年不进了")
              .replace("需求：", "需求：无").replace("下次跟进：", "下次跟进：12月20日"))
    before = parts(shop / "register.xlsx")
    assert customer_row(shop / "register.xlsx", "C0001")["等级"] == "A"
    deliver(port, reply(f"王强 <{WANG}>", subject, filled, when=SENT))

    assert run(shop) == 0
    register = shop / "register.xlsx"
    rows = log_rows(register)
    assert rows[0][-1] == "来源"
    assert rows[-1] == [dt.date(2026, 11, 30), "C0001", "王强", "电话", "客户说明年再说，今年不进了", "无", "",
                        "", dt.date(2026, 12, 20), "邮件 2026-11-30 15:20"]
    row = customer_row(register, "C0001")
    assert row["等级"] == "E" and row["下次跟进"] == dt.date(2026, 12, 20)
    after = parts(register)
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"} and "xl/worksheets/sheet2.xml" in changed
    assert set(before) == set(after)
    text = outbox_text(shop, NEXT_DAY, "rep-王强")
    assert text.index("你用邮件记录的跟进已录入（1 条）") < text.index("今天")
    assert "宝安鸿达汽修（C0001）：电话 客户说明年再说，今年不进了 无 → 现在 E 级，下次跟进 12月20日" in text
    assert "王强：台账 0，邮件 1" in outbox_text(shop, NEXT_DAY, "owner-陈总")
    assert folder_subjects(port, "已录入") == [subject] and folder_subjects(port, "INBOX") == []

    # A second run with the same mailbox adds nothing.
    assert run(shop) == 0
    assert len(log_rows(register)) == len(rows)


def test_several_customers_in_one_reply_to_the_morning_email(shop, port):
    settled(shop)
    body = ("C0001 电话 谈了下季度机油 明确 12-20\n"
            "ｃ０００３　拜访　送了样品，客户满意　满意度５　下周一\n\n"
            "发自我的iPhone\n\n在 2026年11月30日 06:30，客户跟进助手 写道：\n> 1. 宝安鸿达汽修 [A]\n")
    deliver(port, reply(WANG, "Re: 今日跟进 · 王强", body, when=SENT))
    assert run(shop) == 0
    rows = log_rows(shop / "register.xlsx")[-2:]
    assert rows[0][:9] == [dt.date(2026, 11, 30), "C0001", "王强", "电话", "谈了下季度机油", "明确",
                           dt.date(2026, 12, 20), "", ""]
    assert rows[1][:9] == [dt.date(2026, 11, 30), "C0003", "王强", "拜访", "送了样品，客户满意", "", "", 5.0,
                           dt.date(2026, 12, 7)]


@pytest.mark.parametrize("sender, body, auth, why", [
    ("stranger@evil.example", "C0001 电话 谈了", None, "不是「业务员」表里在职业务员或主管的邮箱"),
    (LEFT, "C0001 电话 谈了", None, "不是「业务员」表里在职业务员或主管的邮箱"),
    (WANG, "C0002 电话 谈了", None, "客户 C0002 不是你负责的客户"),
    (WANG, "C0001 电话 谈了", "mx.shop.example; dkim=fail header.d=example.com; spf=pass; dmarc=fail",
     "发件服务器的验证没有通过（dkim, dmarc）"),
    (WANG, "C9999 电话 谈了", None, "台账里没有这个客户编号"),
    (WANG, "好的收到", None, "没有找到要记录的内容"),
    (WANG, "C0001 电话 谈了 需求:很想要", None, "需求只能写 明确、潜在 或 无"),
])
def test_a_refused_reply_leaves_the_register_keeps_the_message_and_tells_sender_and_boss(
        shop, port, sender, body, auth, why):
    original = settled(shop)
    deliver(port, reply(sender, "Re: 今日跟进", body, when=SENT, auth_results=auth))
    assert run(shop) == 0
    assert (shop / "register.xlsx").read_bytes() == original
    assert folder_subjects(port, "未处理") == ["Re: 今日跟进"] and folder_subjects(port, "INBOX") == []
    replies = list((shop / "output" / NEXT_DAY / "outbox").glob("inbox_reply-*.eml"))
    assert len(replies) == 1
    answer = email.message_from_bytes(replies[0].read_bytes(), policy=policy.default)
    assert answer["To"].addresses[0].addr_spec == sender
    assert why in answer.get_body(("plain",)).get_content()
    assert "C0015 电话 谈了下季度机油 明确 12-20" in answer.get_body(("plain",)).get_content()
    boss = outbox_text(shop, NEXT_DAY, "owner-陈总")
    assert "1 封回复无法录入" in boss and why in boss and sender in boss
    # Run again: the sender is not told twice, nothing is written.
    assert run(shop) == 0
    assert len(list((shop / "output" / NEXT_DAY / "outbox").glob("inbox_reply-*.eml"))) == 1
    assert (shop / "register.xlsx").read_bytes() == original


# Whoever the register does not clearly employ cannot record (issue 11's strict 在职 and
# duplicate 姓名: their customers are the 主管's, so their replies are not theirs to write).
UNCLEAR = "「业务员」表里有两行「王强」"
NOT_ACTIVE = "不是「业务员」表里在职业务员或主管的邮箱"


@pytest.mark.parametrize("reps, sender, body, why", [
    ([*REPS, ["王强", "wq2@example.com", "业务员", "是"]], WANG, "C0001 电话 谈了", UNCLEAR),
    ([*REPS, ["王强", "wq2@example.com", "业务员", "是"]], "wq2@example.com", "C0001 电话 谈了", UNCLEAR),
    ([*REPS, ["王强", WANG, "主管", "是"]], WANG, "C0002 电话 谈了", UNCLEAR),
    ([["王强", WANG, "业务员", "离职"], *REPS[1:]], WANG, "C0001 电话 谈了", NOT_ACTIVE),
    ([["王强", WANG, "业务员", "走了"], *REPS[1:]], WANG, "C0001 电话 谈了", NOT_ACTIVE),
    ([*REPS, ["孙经理", "sun@example.com", "主管", "已离职"]], "sun@example.com", "C0002 电话 谈了", NOT_ACTIVE),
])
def test_a_reply_from_someone_the_register_does_not_clearly_employ_is_refused(tmp_path, port, reps, sender,
                                                                               body, why):
    build(tmp_path / "register.xlsx", reps=reps)
    config(tmp_path, port)
    original = settled(tmp_path)
    deliver(port, reply(sender, "Re: 今日跟进", body, when=SENT))
    assert run(tmp_path) == 0
    assert (tmp_path / "register.xlsx").read_bytes() == original
    assert folder_subjects(port, "未处理") == ["Re: 今日跟进"] and folder_subjects(port, "INBOX") == []
    answer = email.message_from_bytes(next((tmp_path / "output" / NEXT_DAY / "outbox").glob("inbox_reply-*.eml"))
                                      .read_bytes(), policy=policy.default)
    assert answer["To"].addresses[0].addr_spec == sender
    assert why in answer.get_body(("plain",)).get_content()
    boss = outbox_text(tmp_path, NEXT_DAY, "owner-陈总")
    assert "1 封回复无法录入" in boss and why in boss


def test_a_boss_may_record_for_any_customer(shop, port):
    settled(shop)
    deliver(port, reply(BOSS, "x", "C0002 微信 报价已发 潜在", when=SENT))
    assert run(shop) == 0
    assert log_rows(shop / "register.xlsx")[-1][1:5] == ["C0002", "陈总", "微信", "报价已发"]


def test_the_same_message_fetched_twice_gives_one_row(shop, port):
    settled(shop)
    message = reply(WANG, "x", "C0001 电话 谈了", when=SENT, message_id="<same@phone.example>")
    deliver(port, message)
    assert run(shop) == 0
    deliver(port, message)                      # delivered again (a forward, a copy back to INBOX)
    assert run(shop) == 0
    assert sum(r[1] == "C0001" and r[4] == "谈了" for r in log_rows(shop / "register.xlsx")) == 1
    assert folder_subjects(port, "已录入") == ["x", "x"]


_KILL_AFTER = """
import os, signal, sys
import {module} as target
real = target.{name}
def crashing(*args, **kwargs):
    result = real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
    return result
target.{name} = crashing
{patch_more}
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def killed_run(tmp: Path, module: str, name: str, patch_more: str = "") -> int:
    """run.py in its own process, killed (SIGKILL) right after ``module.name`` returns."""
    script = _KILL_AFTER.format(module=module, name=name, patch_more=patch_more)
    result = subprocess.run([sys.executable, "-c", script, "--config", str(tmp / "config.toml"), "--date", NEXT_DAY],
                            cwd=ROOT, env={**os.environ, "TEST_INBOX_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)},
                            capture_output=True, timeout=300)
    return result.returncode


def test_a_run_killed_between_journal_and_move_gives_one_row(shop, port):
    original = settled(shop)
    deliver(port, reply(WANG, "x", "C0001 电话 谈了", when=SENT))
    # Killed after the verdict is journalled, before the message is moved.
    assert killed_run(shop, "pipeline.inbox.journal", "Journal.record_all") == -9
    assert (shop / "register.xlsx").read_bytes() == original
    assert folder_subjects(port, "INBOX") == ["x"] and journal(shop)[0]["status"] == "accepted"
    assert run(shop) == 0
    assert sum(r[1] == "C0001" and r[4] == "谈了" for r in log_rows(shop / "register.xlsx")) == 1
    assert folder_subjects(port, "INBOX") == [] and folder_subjects(port, "已录入") == ["x"]


def test_a_run_killed_after_writing_before_the_journal_knows_gives_one_row(shop, port):
    settled(shop)
    deliver(port, reply(WANG, "x", "C0001 电话 谈了", when=SENT))
    # Killed right after the register was replaced, before the journal noted the rows written.
    assert killed_run(shop, "pipeline.writeback.update", "_update") == -9
    assert sum(r[4] == "谈了" for r in log_rows(shop / "register.xlsx")) == 1
    assert not any(e.get("written") for e in journal(shop))
    assert run(shop) == 0
    assert sum(r[4] == "谈了" for r in log_rows(shop / "register.xlsx")) == 1
    assert any(e.get("written") for e in journal(shop))


def test_a_locked_register_keeps_the_rows_waiting_but_uses_them_tonight(shop, port):
    original = settled(shop)
    lock = shop / "~$register.xlsx"
    lock.write_bytes(b"\x06" + "王强".encode("utf-16-le") + b" " * 40)
    deliver(port, reply(WANG, "x", "C0001 电话 不要了 无", when=SENT))
    assert run(shop) == 0
    assert (shop / "register.xlsx").read_bytes() == original
    report = python_calamine.CalamineWorkbook.from_path(str(shop / "output" / NEXT_DAY / "report.xlsx"))
    sheet = report.get_sheet_by_name(report.sheet_names[1]).to_python()
    grades = {r[sheet[0].index("客户编号")]: r[sheet[0].index("等级")] for r in sheet[1:]}
    assert grades["C0001"] == "E"                   # tonight's rules used the waiting row
    assert "已录入（1 条）" in outbox_text(shop, NEXT_DAY, "rep-王强")
    assert summary(shop)["inbox"]["pending_rows"] == 1
    lock.unlink()
    assert run(shop) == 0
    assert sum(r[4] == "不要了" for r in log_rows(shop / "register.xlsx")) == 1
    assert run(shop) == 0
    assert sum(r[4] == "不要了" for r in log_rows(shop / "register.xlsx")) == 1


def test_a_log_that_is_an_excel_table_grows_over_the_new_rows_and_column(tmp_path, port):
    build(tmp_path / "register.xlsx", log="table")
    config(tmp_path, port)
    settled(tmp_path)
    deliver(port, reply(WANG, "x", "C0001 电话 谈了\nC0003 微信 发了报价", when=SENT))
    assert run(tmp_path) == 0
    table = parts(tmp_path / "register.xlsx")["xl/tables/table1.xml"].decode()
    assert 'ref="A1:J4"' in table and 'name="来源"' in table and 'count="10"' in table
    assert [r[1] for r in log_rows(tmp_path / "register.xlsx")] == ["客户编号", "C0001", "C0001", "C0003"]
    import openpyxl      # the file opens in a spreadsheet library, table and all
    book = openpyxl.load_workbook(tmp_path / "register.xlsx")
    assert book["跟进记录"].tables["FollowUps"].ref == "A1:J4"


def test_a_register_without_a_log_gets_one_with_headers(tmp_path, port):
    build(tmp_path / "register.xlsx", log="none")
    config(tmp_path, port)
    settled(tmp_path)
    before = parts(tmp_path / "register.xlsx")
    deliver(port, reply(WANG, "记录跟进 C0001", "方式：电话\n内容：谈了\n下次跟进：明天", when=SENT))
    assert run(tmp_path) == 0
    rows = log_rows(tmp_path / "register.xlsx")
    assert rows[0] == [*FOLLOWUP_HEADER, "来源"]
    assert rows[1] == [dt.date(2026, 11, 30), "C0001", "王强", "电话", "谈了", "", "", "", dt.date(2026, 12, 1),
                       "邮件 2026-11-30 15:20"]
    after = parts(tmp_path / "register.xlsx")
    assert set(after) - set(before) == {"xl/worksheets/sheet4.xml"}
    assert {n for n in before if before[n] != after[n]} <= {
        "xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    assert run(tmp_path) == 0          # the next night reads the new sheet like any other
    assert summary(tmp_path)["status"] == "ok"
    assert len(log_rows(tmp_path / "register.xlsx")) == 2


def test_a_reply_to_an_english_email(shop, port):
    config(shop, port, extra='[locale]\nlanguage = "en"\n')
    assert run(shop, DAY) == 0
    to, subject, body = link_target(shop, DAY, "王强", "C0001")
    assert subject.startswith("Record follow-up C0001")
    assert body.startswith("Method: \r\nContent: \r\nNeed: \r\nExpected close: ")
    filled = body.replace("Method: ", "Method: phone").replace("Content: ", "Content: asked about brake pads") \
        .replace("Need: ", "Need: latent").replace("Next follow-up: ", "Next follow-up: next Monday")
    deliver(port, reply(WANG, subject, filled, when=SENT))
    assert run(shop) == 0
    # Whatever the email language, the register keeps its own words: a Chinese register's
    # log gets 来源 and 邮件 (as 需求 gets 潜在), and the contact way as the staff write it.
    rows = log_rows(shop / "register.xlsx")
    assert rows[0][-1] == "来源"
    assert rows[-1] == [
        dt.date(2026, 11, 30), "C0001", "王强", "电话", "asked about brake pads", "潜在", "", "",
        dt.date(2026, 12, 7), "邮件 2026-11-30 15:20"]
    assert "Your follow-ups sent by email were recorded (1)" in outbox_text(shop, NEXT_DAY, "rep-王强")


def test_without_an_inbox_the_emails_have_no_link_and_no_reply_to(tmp_path, port):
    build(tmp_path / "register.xlsx")
    (tmp_path / "config.toml").write_text('[register]\npath = "register.xlsx"\n', encoding="utf-8")
    assert run(tmp_path, DAY) == 0
    msg = email.message_from_bytes((tmp_path / "output" / DAY / "outbox" / "rep-王强.eml").read_bytes(),
                                   policy=policy.default)
    assert msg["Reply-To"] is None and "mailto:" not in msg.get_body(("html",)).get_content()
    assert not (tmp_path / "output" / "inbox").exists()


def test_a_poll_between_nights_reads_the_mailbox_but_leaves_the_register_to_the_night(shop, port):
    from pipeline.config import load_config
    from pipeline.runner import RunOptions, poll_inbox
    original = settled(shop)
    deliver(port, reply(WANG, "x", "C0001 电话 谈了", when=SENT),
            reply("stranger@evil.example", "y", "C0001 电话 谈了", when=SENT))
    config_ = load_config(shop / "config.toml")
    opts = RunOptions(config=config_, today=date_(NEXT_DAY), run_date=date_(NEXT_DAY),
                      register=shop / "register.xlsx", output=shop / "output",
                      environ={"TEST_INBOX_PASSWORD": PASSWORD})
    facts = poll_inbox(opts)
    assert (facts["accepted"], facts["refused"]) == (1, 1)
    assert (shop / "register.xlsx").read_bytes() == original
    assert folder_subjects(port, "已录入") == ["x"] and folder_subjects(port, "未处理") == ["y"]
    assert len(list((shop / "output" / NEXT_DAY / "outbox").glob("inbox_reply-*.eml"))) == 1
    assert run(shop) == 0
    assert sum(r[4] == "谈了" for r in log_rows(shop / "register.xlsx")) == 1


def date_(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_an_unreachable_mailbox_is_one_line_and_the_run_goes_on(tmp_path):
    from tests.imap_server import free_port
    build(tmp_path / "register.xlsx")
    config(tmp_path, free_port())
    assert run(tmp_path) == 0
    facts = summary(tmp_path)
    assert facts["status"] == "ok" and "跟进邮箱连不上" in facts["inbox"]["error"]
    assert "跟进邮箱连不上" in outbox_text(tmp_path, NEXT_DAY, "owner-陈总")


def test_a_password_pasted_into_inbox_password_env_is_never_repeated(tmp_path, port, capsys):
    build(tmp_path / "register.xlsx")
    path = config(tmp_path, port)
    pasted = "Secr3t pw!"
    path.write_text(path.read_text(encoding="utf-8").replace('"TEST_INBOX_PASSWORD"', f'"{pasted}"'),
                    encoding="utf-8")
    assert main(["--config", str(path), "--date", NEXT_DAY], environ={}) == 0
    shown = capsys.readouterr()
    said = shown.out + shown.err + (tmp_path / "output" / NEXT_DAY / "summary.json").read_text(encoding="utf-8")
    said += outbox_text(tmp_path, NEXT_DAY, "owner-陈总")
    assert pasted not in said and json.dumps(pasted)[1:-1] not in said
    assert "[inbox] password_env 应该是环境变量的名字" in summary(tmp_path)["inbox"]["error"]


@pytest.mark.parametrize("log", ["plain", "table"])
def test_later_replies_go_under_the_earlier_ones_leaving_every_other_byte(tmp_path, port, log):
    build(tmp_path / "register.xlsx", log=log)
    config(tmp_path, port)
    settled(tmp_path)
    deliver(port, reply(WANG, "x", "C0001 电话 第一次", when=SENT))
    assert run(tmp_path) == 0
    sheet = "xl/worksheets/sheet2.xml"
    before = parts(tmp_path / "register.xlsx")[sheet]
    deliver(port, reply(WANG, "y", "C0003 微信 第二次 下周一", when=SENT + dt.timedelta(hours=1)))
    assert run(tmp_path) == 0
    after = parts(tmp_path / "register.xlsx")[sheet]
    # The second append only inserts the new row before </sheetData> and grows <dimension>.
    end = before.index(b"</sheetData>")
    assert after.startswith(before[:before.index(b"<dimension")]) and after.endswith(before[end:])
    assert after.count(b"<row ") == before.count(b"<row ") + 1
    rows = log_rows(tmp_path / "register.xlsx")
    assert [r[4] for r in rows[-2:]] == ["第一次", "第二次"]
    assert rows[-1][-1] == "邮件 2026-11-30 16:20" and rows[-1][-2] == dt.date(2026, 12, 7)
    if log == "table":
        assert 'ref="A1:J4"' in parts(tmp_path / "register.xlsx")["xl/tables/table1.xml"].decode()


def test_formatted_empty_rows_below_the_log_get_the_new_rows_and_keep_their_formatting(tmp_path, port):
    build(tmp_path / "register.xlsx")
    path = tmp_path / "register.xlsx"
    # Re-make the log with rows 3..6 formatted but empty, as staff pre-format a table's rows.
    rows = log_rows(path)
    with xlsxwriter.Workbook(str(tmp_path / "formatted.xlsx")) as book:
        yellow = book.add_format({"bg_color": "#FFFF00"})
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        for name in python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names:
            sheet = book.add_worksheet(name)
            for r, row in enumerate(log_rows(path, name)):
                for c, value in enumerate(row):
                    _cell(sheet, r, c, value if value != "" else None, dates)
            if name == "跟进记录":
                for r in range(2, 6):
                    sheet.set_row(r, None, yellow)
    (tmp_path / "formatted.xlsx").replace(path)
    config(tmp_path, port)
    settled(tmp_path)
    deliver(port, reply(WANG, "x", "C0001 电话 谈了", when=SENT))
    assert run(tmp_path) == 0
    assert log_rows(path)[2][:5] == [dt.date(2026, 11, 30), "C0001", "王强", "电话", "谈了"]
    sheet = parts(path)["xl/worksheets/sheet2.xml"].decode()
    assert re.search(r'<row r="3"[^>]*customFormat="1"', sheet) and re.search(r'<row r="6"[^>]*customFormat="1"', sheet)
    assert len(rows) == 2


def test_with_a_mail_server_the_refused_sender_is_answered_by_smtp_and_mornings_carry_reply_to(tmp_path, port):
    from tests.smtp_server import smtp_server
    build(tmp_path / "register.xlsx")
    with smtp_server() as smtp:
        config(tmp_path, port, extra=f'[mail]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
                                     f'from_address = "crm@shop.example"\nsend_on_days_off = true\n')
        deliver(port, reply(WANG, "Re: 今日跟进", "C0002 电话 谈了", when=SENT))
        assert run(tmp_path) == 0
        (answer,) = [m for m in smtp.handler.to(WANG) if "没有录入" in m["Subject"]]
        assert "客户 C0002 不是你负责的客户" in answer.get_body(("plain",)).get_content()
        morning = next(m for m in smtp.handler.to(WANG) if m is not answer)
        assert morning["Reply-To"] == "followup@shop.example"
        assert "mailto:followup@shop.example?subject=" in morning.get_body(("html",)).get_content()
        assert run(tmp_path) == 0           # not answered twice
        assert sum("没有录入" in m["Subject"] for m in smtp.handler.to(WANG)) == 1


def test_an_html_only_reply_is_read_without_its_quoted_part(shop, port):
    settled(shop)
    html = ("<div>C0001 电话 谈了<br>C0003 微信 报价</div><div>发自我的手机</div>"
            "<blockquote><div>C0001 电话 引用的原邮件</div></blockquote>")
    message = reply(WANG, "Re: 今日跟进", "", when=SENT, html=html)
    deliver(port, message)
    assert run(shop) == 0
    assert [r[4] for r in log_rows(shop / "register.xlsx")[-2:]] == ["谈了", "报价"]


@pytest.mark.parametrize("toml, message", [
    ('[inbox]\nsecurity = "tls"', '[inbox] security：只能是 "ssl"、"starttls" 或 "none"'),
    ('[inbox]\nport = 0', "[inbox] port：必须是 1–65535 的端口号"),
    ('[inbox]\npoll_minutes = 0', "[inbox] poll_minutes：必须 ≥ 1"),
    ('[inbox]\nkeyring_service = "x"', "[inbox] 没有这个设置项：keyring_service"),
    ('[inbox]\nhost = 5', "[inbox] host：必须是加英文引号的文字"),
])
def test_a_bad_inbox_key_is_one_line_naming_it(tmp_path, toml, message):
    from pipeline.config import ConfigError, load_config
    (tmp_path / "c.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "c.toml")
    assert str(error.value).startswith(message)


def test_the_inbox_defaults_are_the_issues():
    from pipeline.config import InboxConfig
    inbox = InboxConfig()
    assert (inbox.host, inbox.folder, inbox.done_folder, inbox.unreadable_folder) == ("", "INBOX", "已录入", "未处理")
    assert {f for f in InboxConfig.__dataclass_fields__} == {
        "address", "host", "port", "security", "user", "password_env", "folder", "done_folder",
        "unreadable_folder", "poll_minutes"}


@pytest.mark.parametrize("sender, headers", [
    ("stranger@evil.example", {"Auto-Submitted": "auto-replied"}),
    ("MAILER-DAEMON@mx.example", {}),
    ("news@shop-supplies.example", {"Precedence": "bulk", "List-Id": "<news.shop-supplies.example>"}),
])
def test_auto_replies_and_bounces_are_kept_and_listed_but_never_answered(shop, port, sender, headers):
    original = settled(shop)
    deliver(port, reply(sender, "Automatic reply: 跟进没有录入", "I am out of office", when=SENT, headers=headers))
    assert run(shop) == 0
    assert (shop / "register.xlsx").read_bytes() == original
    assert folder_subjects(port, "未处理") == ["Automatic reply: 跟进没有录入"]
    assert not list((shop / "output" / NEXT_DAY / "outbox").glob("inbox_reply-*"))
    assert "1 封回复无法录入" in outbox_text(shop, NEXT_DAY, "owner-陈总")


def test_the_answer_to_a_refused_reply_says_it_is_automatic(shop, port):
    settled(shop)
    deliver(port, reply("stranger@evil.example", "hi", "C0001 电话 谈了", when=SENT))
    assert run(shop) == 0
    (path,) = (shop / "output" / NEXT_DAY / "outbox").glob("inbox_reply-*.eml")
    assert email.message_from_bytes(path.read_bytes(), policy=policy.default)["Auto-Submitted"] == "auto-replied"


def test_a_log_table_with_a_totals_row_keeps_the_rows_waiting_and_says_why(tmp_path, port):
    path = tmp_path / "register.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        for name, rows in {"客户": [CUSTOMER_HEADER, *customers()], "业务员": [REPS_HEADER, *REPS]}.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    _cell(sheet, r, c, value, dates)
        log = book.add_worksheet("跟进记录")
        log.add_table(0, 0, 2, len(FOLLOWUP_HEADER) - 1, {
            "name": "FollowUps", "total_row": True, "data": [
                [dt.datetime(2026, 11, 2), "C0001", "王强", "电话", "问了价格", "明确", None, 4, None]],
            "columns": [{"header": h, **({"total_function": "count"} if h == "满意度" else {})}
                        for h in FOLLOWUP_HEADER]})
    config(tmp_path, port)
    settled(tmp_path)
    deliver(port, reply(WANG, "x", "C0001 电话 不要了 无", when=SENT))
    assert run(tmp_path) == 0
    facts = summary(tmp_path)
    assert facts["writeback"]["status"] in ("written", "unchanged") and facts["inbox"]["pending_rows"] == 1
    assert "汇总行" in facts["inbox"]["error"] and "汇总行" in outbox_text(tmp_path, NEXT_DAY, "owner-陈总")
    assert customer_row(path, "C0001")["等级"] == "E"          # graded from the waiting row, written
    assert all(r[4] != "不要了" for r in log_rows(path))


def test_an_english_register_without_a_log_gets_an_english_one(tmp_path, port):
    path = tmp_path / "register.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("Customers")
        for r, row in enumerate([["customer_id", "name", "rep", "need"], ["C0001", "Hongda Garage", "Wang", "clear"]]):
            sheet.write_row(r, 0, row)
        reps = book.add_worksheet("Reps")
        for r, row in enumerate([["name", "email", "role", "active"], ["Wang", WANG, "rep", "yes"]]):
            reps.write_row(r, 0, row)
    config(tmp_path, port)
    settled(tmp_path)
    deliver(port, reply(WANG, "x", "C0001 visit brought samples latent", when=SENT))
    assert run(tmp_path) == 0
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["Customers", "Reps", "FollowUps"]
    rows = book.get_sheet_by_name("FollowUps").to_python()
    assert rows[0] == ["date", "customer_id", "rep", "method", "content", "need", "expected_close",
                       "satisfaction", "next_follow_up", "Source"]
    assert rows[1][1:6] == ["C0001", "Wang", "visit", "brought samples", "潜在"]
    assert rows[1][-1] == "Email 2026-11-30 15:20"
