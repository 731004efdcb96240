"""Issue 11, the classes of section 1 together in one register, as a shop would have them on a bad
night: a year typed 3026 (as a date and as text), a rep address the mail library refuses, a line
break in a rep's 姓名, and stray values in XFD1048576 (on 客户 and on a sheet the run does not use).

Each costs its own cell: exit 0, every other rep's email and the 主管's summary go out through a
real SMTP server, the report is written and each bad cell is in 数据问题 with its Excel row.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import openpyxl
import xlsxwriter

from tests.register_builder import CUSTOMER_HEADER, FOLLOWUP_HEADER, ORDER_HEADER, REPS_HEADER, customer
from tests.smtp_server import smtp_server

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-23"


def bad_night_register(path: Path) -> Path:
    due = {"需求": "无", "建档日期": dt.date(2026, 1, 5)}
    sheets = {
        "客户": [CUSTOMER_HEADER,
                 customer("C1", "鑫达汽修厂", "王强", **due),
                 customer("C2", "顺通车队", "刘洋", **due),
                 customer("C3", "平安快修", "李娜", **{**due, "暂缓至": "3026-01-02"}),     # row 4: text
                 customer("C4", "永安轮胎", "刘洋", **{**due, "预计成交": dt.date(3026, 3, 5)})],   # row 5: a date
        "跟进记录": [FOLLOWUP_HEADER, [dt.date(2026, 11, 2), "C2", "刘洋", "电话", "问价", None, None, None,
                                    dt.date(3026, 11, 20)]],                                # row 2: 下次跟进
        "销售": [ORDER_HEADER, [dt.date(2026, 10, 2), "C1", "S1", 100, None, dt.date(3026, 11, 2)]],   # 应收日期
        "业务员": [REPS_HEADER, ["王强", "a@b..com", "业务员", "是"],                          # row 2: refused
                   ["李娜", "lina@example.com", "业务员", "是"],
                   ["刘\n洋", "liuyang@example.com", "业务员", "是"],                         # Alt+Enter
                   ["陈总", "boss@example.com", "主管", "是"]],
        "备忘": [["随手记"]],
    }
    with xlsxwriter.Workbook(str(path)) as book:
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        for name, rows in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if isinstance(value, dt.date):
                        sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
                    elif value is not None:
                        sheet.write(r, c, value)
            if name in ("客户", "备忘"):
                sheet.write_string(1048575, 16383, "x")   # XFD1048576
    return path


def test_a_bad_night_costs_only_its_bad_cells(tmp_path):
    register = bad_night_register(tmp_path / "台账.xlsx")
    with smtp_server() as server:
        (tmp_path / "config.toml").write_text(
            "[register]\ncreate_demo_if_missing = false\n[mail]\n"
            f'host = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\nfrom_address = "crm@example.com"\n'
            "retries = 0\ntimeout_seconds = 5\n", encoding="utf-8")
        done = subprocess.run([sys.executable, "run.py", "--config", str(tmp_path / "config.toml"), "--register",
                               str(register), "--output", str(tmp_path / "out"), "--date", DAY],
                              cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert {r.rcpt_tos[0] for r in server.handler.received} == {"lina@example.com", "liuyang@example.com",
                                                                "boss@example.com"}
    book = openpyxl.load_workbook(tmp_path / "out" / DAY / "report.xlsx", read_only=True)
    found = {(r[0], r[1], r[2]) for r in book["数据问题"].iter_rows(min_row=2, values_only=True)}
    assert {("客户", 4, "暂缓至"), ("客户", 5, "预计成交"), ("跟进记录", 2, "下次跟进"), ("销售", 2, "应收日期"),
            ("业务员", 2, "邮箱")} <= found
    assert not [f for f in found if f[0] == "客户" and f[1] > 5 and f[2]]   # no problem per far blank row


def test_a_stray_value_in_the_last_column_refuses_the_write_back_instead_of_breaking_the_file(tmp_path):
    """XFD is Excel's last column: the computed columns, added after the last used one, went to
    XFE…XFM, which Excel cannot open ("we found a problem with some content"), and the run said
    已写回.  Now the register is left as it is, one line names the column, the night goes on."""
    register = bad_night_register(tmp_path / "台账.xlsx")
    before = register.read_bytes()
    (tmp_path / "config.toml").write_text("[register]\ncreate_demo_if_missing = false\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "run.py", "--config", str(tmp_path / "config.toml"), "--register",
                           str(register), "--output", str(tmp_path / "out"), "--date", DAY],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert register.read_bytes() == before
    import json
    facts = json.loads((tmp_path / "out" / DAY / "summary.json").read_text(encoding="utf-8"))
    assert facts["writeback"]["status"] == "refused" and "XFD" in facts["writeback"]["reason"]
    assert (tmp_path / "out" / DAY / "report.xlsx").exists()
    assert len(list((tmp_path / "out" / DAY / "outbox").glob("*.eml"))) == 4   # no server: every email, 王强 too
