"""The command line as the shop uses it: exit codes, one-line reasons, what is written."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest

from pipeline.cli import main
from tests.register_builder import customer, minimal_register, write_workbook

DAY = "2026-11-23"


@pytest.fixture
def register(tmp_path):
    customers = [customer("C1", "鑫达汽修厂", 需求="明确", 预计成交=dt.date(2026, 12, 1), 电话="13800138000",
                          建档日期=dt.date(2026, 1, 5)),
                 customer("C2", "顺通车队", rep="李四", 需求="无", 建档日期=dt.date(2026, 1, 5))]
    followups = [[dt.date(2026, 11, 1), "C1", "王强", "电话", "问刹车片", None, None, 4, None]]
    orders = [[dt.date(2026, 10, 1), "C1", "SO-1", 1200, None, None]]
    return minimal_register(tmp_path / "台账.xlsx", customers, followups, orders)


def run(tmp_path, *args, environ=None):
    config = tmp_path / "config.toml"
    if not config.exists():
        config.write_text("[register]\ncreate_demo_if_missing = false\n", encoding="utf-8")
    return main(["--config", str(config), "--output", str(tmp_path / "out"), *args], environ=environ or {})


def test_dry_run_writes_report_and_outbox_and_leaves_the_register_alone(tmp_path, register, capsys):
    before = register.read_bytes()
    assert run(tmp_path, "--register", str(register), "--date", DAY, "--dry-run") == 0
    assert register.read_bytes() == before
    day = tmp_path / "out" / DAY / "dry-run"
    book = openpyxl.load_workbook(day / "report.xlsx")
    assert book.sheetnames == ["今日任务", "客户", "流失预警", "欠款", "数据问题", "统计"]
    tasks = [row for row in book["今日任务"].iter_rows(min_row=3, values_only=True)]   # row 1: the note
    assert [(t[0], t[4], t[8]) for t in tasks] == [("王强", "C1", "A"), ("陈总", "C2", "E")]  # C2: rep unknown
    customers = list(book["客户"].iter_rows(values_only=True))
    assert customers[1][customers[0].index("等级")] == "A" and customers[1][0] == "C1"
    assert {"欠款", "欠款逾期天数", "未来一年预计价值"} <= set(customers[0])
    assert [row[4] for row in book["数据问题"].iter_rows(min_row=2, values_only=True)] == [
        "业务员不在「业务员」表里，该客户按未分配处理（任务交给主管）"]
    facts = json.loads((day / "summary.json").read_text(encoding="utf-8"))
    assert facts["status"] == "ok"
    assert facts["counts"] == {"customers": 2, "followups": 1, "orders": 1, "reps": 2}
    assert facts["problems"]["by_kind"] == {"unknown_rep": 1}
    assert facts["writeback"]["status"] == "skipped"
    assert facts["notes"]["tasks_per_rep"]["王强"]["customers"] == 1       # C1, a clear need closing soon
    assert facts["notes"]["customers_per_grade"]["A"] == 1
    assert {e["status"] for e in facts["emails"]} == {"outbox"}
    assert sorted(p.name for p in (day / "outbox").iterdir()) == [
        "owner-陈总.eml", "owner-陈总.html", "rep-王强.eml", "rep-王强.html"]
    assert "客户 2 位" in capsys.readouterr().out


def test_a_real_run_writes_the_computed_columns_back(tmp_path, register):
    assert run(tmp_path, "--register", str(register), "--date", DAY) == 0
    sheet = openpyxl.load_workbook(register)["客户"]
    headers = [c.value for c in sheet[1]]
    assert {"等级", "下次跟进", "逾期天数", "流失风险"} <= set(headers)
    grades = {row[0]: row[headers.index("等级")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert grades == {"C1": "A", "C2": "E"}
    assert list((tmp_path / "out" / "backups").iterdir())


def test_missing_register_stops_with_one_line(tmp_path, capsys):
    assert run(tmp_path, "--register", str(tmp_path / "nope.xlsx"), "--date", DAY) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "找不到客户台账" in err[0]
    facts = json.loads((tmp_path / "out" / DAY / "summary.json").read_text(encoding="utf-8"))
    assert facts["status"] == "failed" and facts["failed_step"] == "read"


def test_missing_customer_sheet_stops_with_one_line(tmp_path, capsys):
    path = write_workbook(tmp_path / "r.xlsx", {"业务员": [["姓名"], ["王强"]]})
    assert run(tmp_path, "--register", str(path), "--date", DAY) == 1
    assert "「客户」" in capsys.readouterr().err


@pytest.mark.parametrize("config_text, fragment", [
    ("[grading]\na_days = 0\n", "[grading] a_days"),
    ("[mail]\nport = \"x\"\n", "[mail] port"),
    ("[nonsense]\nx = 1\n", "nonsense"),
    ("[grading\n", "TOML"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, capsys, config_text, fragment):
    (tmp_path / "config.toml").write_text(config_text, encoding="utf-8")
    assert run(tmp_path, "--date", DAY) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_bad_date_option(tmp_path, capsys):
    assert run(tmp_path, "--date", "23.11.2026") == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_demo_register_is_created_on_a_fresh_clone(tmp_path):
    (tmp_path / "config.toml").write_text('[register]\npath = "input/客户台账.xlsx"\n', encoding="utf-8")
    assert run(tmp_path, "--date", DAY, "--dry-run") == 0
    assert (tmp_path / "input" / "客户台账.xlsx").exists()
    facts = json.loads((tmp_path / "out" / DAY / "dry-run" / "summary.json").read_text(encoding="utf-8"))
    assert facts["counts"]["customers"] >= 150 and facts["demo_created"]


@pytest.mark.parametrize("config_text, args, source", [
    ("", ["--register", "typo/台账.xlsx"], "--register"),                       # a typo on the command line
    ("", ["--register", "input/客户台账.xlsx"], "--register"),                  # even the default path, when typed
    ('[register]\npath = "input/台帐.xlsx"\n', [], "config.toml"),            # a typo in config.toml
])
def test_a_missing_register_is_an_error_not_a_demo_shop(tmp_path, capsys, monkeypatch, config_text, args, source):
    """Only a fresh clone (the default path, no --register) gets the demo shop (issue 11)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text(config_text, encoding="utf-8")
    assert run(tmp_path, *args, "--date", DAY) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "找不到客户台账" in err[0] and source in err[0]
    assert not list(tmp_path.rglob("*.xlsx"))


def test_a_dry_run_never_overwrites_the_real_runs_files(tmp_path, register):
    assert run(tmp_path, "--register", str(register), "--date", DAY) == 0
    day = tmp_path / "out" / DAY
    real = {p: p.read_bytes() for p in [day / "report.xlsx", day / "summary.json", *(day / "outbox").iterdir()]}
    assert run(tmp_path, "--register", str(register), "--date", DAY, "--dry-run") == 0
    assert {p: p.read_bytes() for p in real} == real
    assert (day / "dry-run" / "report.xlsx").exists() and list((day / "dry-run" / "outbox").iterdir())
    assert json.loads((day / "dry-run" / "summary.json").read_text(encoding="utf-8"))["writeback"]["status"] == "skipped"


def test_the_morning_emails_arrive_once_through_a_real_server(tmp_path, register):
    """The whole run as the shop has it: an SMTP server with a login, the password in the
    environment; each person gets their email once, a second run the same day sends nothing."""
    from tests.smtp_server import smtp_server
    with smtp_server(login=("crm", "s3cret")) as server:
        (tmp_path / "config.toml").write_text(
            "[register]\ncreate_demo_if_missing = false\n"
            f"[mail]\nhost = \"{server.host}\"\nport = {server.port}\nsecurity = \"none\"\nuser = \"crm\"\n"
            "from_address = \"crm@shop.example\"\n", encoding="utf-8")
        environ = {"SHOP_MAIL_PASSWORD": "s3cret"}
        assert run(tmp_path, "--register", str(register), "--date", DAY, environ=environ) == 0
        assert run(tmp_path, "--register", str(register), "--date", DAY, environ=environ) == 0
        rep = server.handler.to("wangqiang@example.com")
        boss = server.handler.to("boss@example.com")
    assert len(rep) == 1 and len(boss) == 1
    body = rep[0].get_body(("plain",)).get_content()
    assert "鑫达汽修厂" in body and "顺通车队" not in body       # 顺通车队's rep 李四 is unknown: the 主管's
    assert "顺通车队" in boss[0].get_body(("plain",)).get_content()
    facts = json.loads((tmp_path / "out" / DAY / "summary.json").read_text(encoding="utf-8"))
    assert {e["status"] for e in facts["emails"]} == {"already_sent"}


def test_a_second_run_while_one_is_going_says_so_and_exits_3(tmp_path, register, capsys):
    from pipeline.ops.runlock import acquire_run_lock
    with acquire_run_lock(tmp_path / "out" / "run.lock"):
        assert run(tmp_path, "--register", str(register), "--date", DAY, "--dry-run") == 3
    assert "另一个运行正在进行" in capsys.readouterr().err
    assert run(tmp_path, "--register", str(register), "--date", DAY, "--dry-run") == 0


def test_schedule_refuses_a_fixed_date(tmp_path, capsys):
    assert run(tmp_path, "--schedule", "--date", DAY) == 2
    assert "--date" in capsys.readouterr().err


def test_a_refused_recipient_is_reported_and_the_others_still_get_theirs(tmp_path, capsys):
    from tests.smtp_server import smtp_server
    reps = [["王强", "wangqiang@example.com", "业务员", "是"], ["李四", "lisi@example.com", "业务员", "是"],
            ["陈总", "boss@example.com", "主管", "是"]]
    customers = [customer("C1", "鑫达汽修厂", 需求="无", 建档日期=dt.date(2026, 1, 5)),
                 customer("C2", "顺通车队", rep="李四", 需求="无", 建档日期=dt.date(2026, 1, 5))]
    path = minimal_register(tmp_path / "台账.xlsx", customers, reps=reps)
    with smtp_server(reject={"lisi@example.com"}) as server:
        (tmp_path / "config.toml").write_text(
            "[register]\ncreate_demo_if_missing = false\n"
            f"[mail]\nhost = \"{server.host}\"\nport = {server.port}\nsecurity = \"none\"\n"
            "from_address = \"crm@shop.example\"\nretries = 0\n", encoding="utf-8")
        assert run(tmp_path, "--register", str(path), "--date", DAY) == 0
        boss = server.handler.to("boss@example.com")
        assert len(server.handler.to("wangqiang@example.com")) == 1
    assert "1封邮件未送达" in boss[0]["Subject"] and "李四" in boss[0].get_body(("plain",)).get_content()
    facts = json.loads((tmp_path / "out" / DAY / "summary.json").read_text(encoding="utf-8"))
    assert facts["email_totals"]["failed"] == 1 and facts["email_totals"]["failures"][0]["to"] == "lisi@example.com"
    assert "邮件未送达：lisi@example.com" in capsys.readouterr().out


def test_the_nightly_run_waits_for_a_manual_run_instead_of_skipping_the_night(tmp_path):
    import threading

    from pipeline.cli import wait_for_run_lock
    from pipeline.ops.runlock import acquire_run_lock
    path = tmp_path / "run.lock"
    manual = acquire_run_lock(path)
    threading.Timer(0.3, manual.release).start()
    lock = wait_for_run_lock(path, threading.Event(), poll_seconds=0.05)
    assert lock is not None and lock.held
    lock.release()
    with acquire_run_lock(path):
        stopped = threading.Event()
        stopped.set()
        assert wait_for_run_lock(path, stopped, poll_seconds=0.05) is None
