"""A date-formatted number calamine cannot turn into a date (e.g. -1e12 typed into 生日 or
a 跟进记录 日期) made python-calamine panic, ending the night with a Rust backtrace.  It is
now one located problem and the night goes on.  Real .xlsx files written by xlsxwriter
with real date formats.  Both tests failed before read.overflow (PanicException).
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.read import read_workbook, used_sheets, validate
from tests.register_builder import CUSTOMER_HEADER, customer, minimal_register

DAY = dt.date(2026, 11, 23)
PROJECT = Path(__file__).resolve().parent.parent
HUGE = st.one_of(st.floats(max_value=-1e10, allow_infinity=False, allow_nan=False),
                 st.floats(min_value=-1e12, max_value=1e12), st.integers(-10**20, -10**10))


def register_with(path: Path, birthday, followup_day, order_day) -> Path:
    # a date object gives the cell the date format; the number is then put in at the XML level
    path = minimal_register(path, customers=[customer("C001", "甲", 生日=dt.date(2000, 1, 1)),
                                             customer("C002", "乙")],
                            followups=[[dt.date(2001, 1, 1), "C001", "王强", "电话", "问", None, None, None, None]],
                            orders=[[dt.date(2002, 1, 1), "C001", "X1", 100, None, None, None]])
    import zipfile
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    for serial, value in (("36526", birthday), ("36892", followup_day), ("37257", order_day)):
        for name, data in files.items():
            if name.startswith("xl/worksheets/") and f"<v>{serial}</v>".encode() in data:
                files[name] = data.replace(f"<v>{serial}</v>".encode(), f"<v>{value!r}</v>".encode())
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


@settings(max_examples=15, deadline=None)
@given(HUGE, HUGE, HUGE)
def test_any_number_in_a_date_cell_is_read_or_reported(tmp_path_factory, birthday, followup_day, order_day):
    path = register_with(tmp_path_factory.mktemp("r") / "r.xlsx", birthday, followup_day, order_day)
    register, problems = validate(read_workbook(path, wanted=used_sheets(Config())), Config(), DAY)
    assert {"C001", "C002"} <= set(register.customers["customer_id"])


def test_minus_1e12_in_a_birthday_is_one_problem_through_run_py(tmp_path):
    path = register_with(tmp_path / "r.xlsx", -1e12, -1e300, -5e11)
    done = subprocess.run([sys.executable, "run.py", "--register", str(path), "--output", str(tmp_path / "out"),
                           "--date", DAY.isoformat(), "--dry-run"], cwd=PROJECT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "panicked" not in done.stderr
    assert (tmp_path / "out" / "2026-11-23" / "dry-run" / "report.xlsx").exists()


def test_a_huge_number_is_shown_as_excel_shows_it_not_as_309_digits():
    from pipeline.read.cells import display
    assert [display(v) for v in (1e308, -1e20, 123.0, 1e14, 0.5)] == ["1e+308", "-1e+20", "123", "100000000000000", "0.5"]
