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


ERRORS = st.sampled_from(["#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"])


def with_error_cells(path: Path, cells: dict[tuple[str, str], str]) -> Path:
    """Cells (sheet part, ref) turned into Excel error cells at the XML level, as Excel writes them."""
    import re
    import zipfile
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    for (part, ref), error in cells.items():
        cell = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(/>|>.*?</c>)', re.DOTALL)
        files[part] = cell.sub(f'<c r="{ref}" t="e"><v>{error}</v></c>'.encode(), files[part], count=1)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


@settings(max_examples=8, deadline=None)
@given(ERRORS, ERRORS, ERRORS)
def test_an_error_cell_is_named_as_typed_and_a_rep_whose_status_is_an_error_gets_no_customers(
        tmp_path_factory, active, rep, cid):
    reps = [["王强", "wq@example.com", "业务员", "是"], ["李娜", "ln@example.com", "业务员", "是"],
            ["陈总", "boss@example.com", "主管", "是"]]
    path = minimal_register(tmp_path_factory.mktemp("r") / "r.xlsx",
                            customers=[customer("C001", "甲", rep="李娜"), customer("C002", "乙", rep="王强"),
                                       customer("C003", "丙", rep="王强")], reps=reps)
    rep_col = "ABCDEFGHIJKLMNOP"[CUSTOMER_HEADER.index("业务员")]
    # xlsxwriter writes sheets in order: 客户 sheet1, 业务员 sheet4; 在职 is column D, 李娜 row 3
    path = with_error_cells(path, {("xl/worksheets/sheet4.xml", "D3"): active,
                                   ("xl/worksheets/sheet1.xml", f"{rep_col}3"): rep,
                                   ("xl/worksheets/sheet1.xml", "A4"): cid})
    register, problems = validate(read_workbook(path, wanted=used_sheets(Config())), Config(), DAY)
    located = {(p.sheet, p.row, p.column, p.value) for p in problems}
    assert ("业务员", 3, "在职", active) in located
    assert not register.reps.set_index("name").at["李娜", "active"]
    assert ("客户", 3, "业务员", rep) in located
    assert ("客户", 4, "客户编号", "") in located and cid not in set(register.customers["customer_id"])
