"""The report gets its name even when report.xlsx is open in Excel (issue 11).

On Windows Excel locks an open file; here the name is taken by something that cannot
be replaced (a folder called report.xlsx), which makes the rename fail the same way.
"""
from __future__ import annotations

import datetime as dt

import openpyxl

from pipeline.cli import main
from pipeline.report.place import place, temporary_name
from tests.register_builder import customer, minimal_register

DAY = "2026-11-23"


def run(tmp_path, register, *args):
    config = tmp_path / "config.toml"
    config.write_text("[register]\ncreate_demo_if_missing = false\n", encoding="utf-8")
    return main(["--config", str(config), "--output", str(tmp_path / "out"), "--register", str(register),
                 "--date", DAY, *args], environ={})


def test_a_report_that_cannot_be_replaced_goes_to_report_2_and_the_run_says_so(tmp_path, capsys):
    register = minimal_register(tmp_path / "台账.xlsx", [customer("C1", "甲", 建档日期=dt.date(2026, 1, 5))])
    day = tmp_path / "out" / DAY
    (day / "report.xlsx").mkdir(parents=True)          # taken, and cannot be written over
    (day / "report (2).xlsx").write_bytes(b"an earlier copy")
    assert run(tmp_path, register) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    placed = day / "report (3).xlsx"
    assert openpyxl.load_workbook(placed).sheetnames[0] == "今日任务"
    assert (day / "report (2).xlsx").read_bytes() == b"an earlier copy"
    lines = [line for line in out.out.splitlines() if "report (3).xlsx" in line]
    assert any("report.xlsx" in line and "Excel" in line for line in lines)
    assert not [p for p in day.iterdir() if p.name.endswith(".tmp.xlsx")]     # no half-written leftovers


def test_the_report_replaces_yesterdays_file_in_one_step(tmp_path):
    """Not a regression test: the usual case keeps the usual name."""
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old")
    written = temporary_name(target)
    written.write_bytes(b"new")
    assert place(written, target) == (target, "")
    assert target.read_bytes() == b"new" and not written.exists()
