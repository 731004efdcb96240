"""Reading odd registers (issue 11): far years, far cells, 1904 dates, Strict OOXML, macro
sheets, a main part elsewhere, old .xls.  Files are real .xlsx written by xlsxwriter and
edited at the XML level, the way Excel, Mac Excel or a stray keystroke leave them.

Each test here failed on the code before issue 11 (a crash, a wrong date or a wrong
diagnosis), except where the docstring says otherwise.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.read import RegisterError, read_workbook, used_sheets, validate
from pipeline.runner import RunOptions, run_once
from tests.register_builder import (
    CUSTOMER_HEADER,
    FOLLOWUP_HEADER,
    ORDER_HEADER,
    REPS_HEADER,
    customer,
    minimal_register,
)

DAY = dt.date(2026, 11, 23)
PROJECT = Path(__file__).resolve().parent.parent


def load(path: Path):
    return validate(read_workbook(path, wanted=used_sheets(Config())), Config(), DAY)


def kinds(problems) -> set[tuple]:
    return {(p.sheet, p.row, p.column, p.kind) for p in problems}


def edit_parts(path: Path, edit) -> Path:
    """Rewrite the package's parts with ``edit(parts) -> parts`` (name -> bytes)."""
    with zipfile.ZipFile(path) as z:
        parts = {info.filename: z.read(info) for info in z.infolist()}
    parts = edit(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def dry_run(path: Path, out: Path):
    return run_once(RunOptions(config=Config(), today=DAY, run_date=DAY, register=path, output=out, dry_run=True))


# --- 1. years outside the register's range ---------------------------------------------------

FAR_DATES = [  # (sheet, header, value): a real date, text, a yyyymmdd number, in every date column
    ("客户", "预计成交", dt.date(3026, 3, 5)),
    ("客户", "暂缓至", "3026-03-05"),
    ("客户", "建档日期", dt.date(2262, 1, 1)),
    ("跟进记录", "日期", dt.date(3026, 11, 1)),
    ("跟进记录", "下次跟进", "3026年1月2日"),
    ("跟进记录", "预计成交", 30260101),
    ("销售", "日期", "1026/11/02"),
    ("销售", "应收日期", dt.date(2262, 3, 1)),
]


@pytest.mark.parametrize("sheet, header, value", FAR_DATES)
def test_a_year_out_of_range_is_a_located_problem_and_the_night_goes_on(tmp_path, sheet, header, value):
    follow = [dt.date(2026, 11, 20), "C1", "王强", "电话", "报价", "明确", None, 4, dt.date(2026, 11, 25)]
    order = [dt.date(2026, 11, 1), "C1", "S1", 100.0, None, None]
    rows = {"客户": customer("C1", "甲", 需求="明确", 预计成交=dt.date(2026, 12, 1)), "跟进记录": follow, "销售": order}
    header_of = {"客户": CUSTOMER_HEADER, "跟进记录": FOLLOWUP_HEADER, "销售": ORDER_HEADER}
    rows[sheet][header_of[sheet].index(header)] = value
    path = minimal_register(tmp_path / "r.xlsx", [rows["客户"]], [rows["跟进记录"]], [rows["销售"]])
    _, problems = load(path)
    assert (sheet, 2, header, "bad_year") in kinds(problems)
    found = next(p for p in problems if p.kind == "bad_year")
    assert "年份看起来写错了" in found.message
    outcome = dry_run(path, tmp_path / "out")
    assert outcome.ok, outcome.reason
    report = openpyxl.load_workbook(tmp_path / "out" / DAY.isoformat() / "dry-run" / "report.xlsx")
    assert any(row[:3] == (sheet, 2, header) and "年份" in row[4]
               for row in report["数据问题"].iter_rows(min_row=2, values_only=True))


def test_dates_inside_the_range_still_read():
    """Not a regression test: the edges of the range are dates."""
    import pandas as pd

    from pipeline.read.cells import read_dates
    values, bad = read_dates(pd.Series([dt.date(1900, 1, 1), "2100-12-31", 21001231, "2101-01-01", dt.date(1899, 12, 31)]))
    assert list(bad) == ["", "", "", "bad_year", "bad_year"]
    assert values[1] == pd.Timestamp("2100-12-31")


DATE_CELLS = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)),
    st.integers(1, 9999).map(lambda year: f"{year:04d}-03-05"),
    st.integers(1, 9999).map(lambda year: f"{year}年3月5日"),
    st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12), st.just(""))


@settings(max_examples=300, deadline=None)
@given(st.lists(DATE_CELLS, max_size=12), st.booleans())
def test_any_date_cell_is_read_or_reported_never_raised(cells, date1904):
    """Whatever a date cell holds, the reader returns a date in range or a problem kind."""
    import pandas as pd

    from pipeline.read.cells import read_dates
    values, bad = read_dates(pd.Series(cells, dtype=object), date1904)
    for cell, value, kind in zip(cells, values, bad):
        assert pd.isna(value) or 1900 <= value.year <= 2100
        if isinstance(cell, dt.date):   # a real date: read as it is, or its year is the problem
            assert kind == ("" if 1900 <= cell.year <= 2100 else "bad_year")
            assert kind or value == pd.Timestamp(cell.year, cell.month, cell.day)
        if kind == "":   # no problem: a blank cell (spaces count as blank) and nothing else reads empty
            assert (isinstance(cell, str) and not cell.strip()) == pd.isna(value)


@pytest.mark.parametrize("argument", ["9999-01-01", "3026-11-23", "0999-01-01"])
def test_a_far_date_on_the_command_line_is_one_line(tmp_path, argument):
    done = subprocess.run([sys.executable, "run.py", "--date", argument, "--dry-run", "--register",
                           str(tmp_path / "none.xlsx"), "--output", str(tmp_path / "out")],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--date" in done.stderr and "Traceback" not in done.stderr


# --- 2. a stray value in the far corner ----------------------------------------------------

def stray_cell(path: Path, sheet_part: str, ref: str) -> Path:
    """A value typed in ``ref`` and a dimension claiming the whole sheet, as Excel writes them."""
    row = int(re.match(r"[A-Z]+(\d+)", ref).group(1))

    def edit(parts):
        xml = parts[sheet_part].decode("utf-8")
        xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
        xml = xml.replace("</sheetData>", f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'
                                          "</row></sheetData>")
        parts[sheet_part] = xml.encode("utf-8")
        return parts
    return edit_parts(path, edit)


def register_with_extra_sheet(path: Path) -> Path:
    """The minimal register plus an unused sheet 备忘 (the fifth worksheet part)."""
    minimal_register(path, [customer("C1", "甲")])

    def edit(parts):
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            b"</sheets>", b'<sheet name="\xe5\xa4\x87\xe5\xbf\x98" sheetId="9" r:id="rId99"/></sheets>')
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                                 b'2006/relationships/worksheet" Target="worksheets/sheet9.xml"/></Relationships>')
        parts["xl/worksheets/sheet9.xml"] = parts["xl/worksheets/sheet4.xml"]
        return parts
    return edit_parts(path, edit)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet9.xml", "xl/worksheets/sheet1.xml",
                                  "xl/worksheets/sheet2.xml", "xl/worksheets/sheet4.xml"])
def test_a_value_in_xfd1048576_of_any_sheet_does_not_stop_the_night(tmp_path, part):
    path = stray_cell(register_with_extra_sheet(tmp_path / "r.xlsx"), part, "XFD1048576")
    # In its own process, with 2 GB of address space: the old reader asked for hundreds of GB and aborted.
    code = ("import resource, sys, datetime as dt; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30));"
            "from pathlib import Path; from pipeline.config import Config;"
            "from pipeline.read import read_workbook, used_sheets, validate;"
            f"r, p = validate(read_workbook(Path({str(path)!r}), wanted=used_sheets(Config())), Config(), dt.date(2026, 11, 23));"
            "print(len(r.customers), len(p))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split()[0] == "1"
    assert dry_run(path, tmp_path / "out").ok


def test_a_value_in_a1048576_is_one_problem_not_a_million(tmp_path):
    path = stray_cell(minimal_register(tmp_path / "r.xlsx", [customer("C1", "甲"), customer("C2", "乙")]),
                      "xl/worksheets/sheet1.xml", "A1048576")
    register, problems = load(path)
    blank = [p for p in problems if p.kind.startswith("blank_row")]
    assert [(p.row, p.kind) for p in blank] == [(4, "blank_rows")]
    assert "4" in blank[0].message and "1048575" in blank[0].message
    assert ("客户", 1048576, "客户名称", "missing_name") in kinds(problems)   # the stray value, where it is
    assert list(register.customers["row"]) == [2, 3, 1048576]


def test_a_run_of_blank_rows_inside_the_table_is_one_problem(tmp_path):
    """Also true of blank rows calamine reads densely (no far cell)."""
    blank = [None] * len(CUSTOMER_HEADER)
    path = minimal_register(tmp_path / "r.xlsx", [customer("C1", "甲"), blank, customer("C2", "乙"), blank, blank,
                                                  blank, customer("C3", "丙")])
    _, problems = load(path)
    assert sorted((p.row, p.kind) for p in problems if p.kind.startswith("blank_row")) == [
        (3, "blank_row"), (5, "blank_rows")]


def test_the_far_corner_guard_keeps_values_and_types(tmp_path):
    """A compacted sheet reads the same cells (dates, numbers, formulas' cached values) as calamine does."""
    when = dt.date(2026, 10, 1)
    path = minimal_register(tmp_path / "r.xlsx", [customer("C1", "甲", 建档日期=when, 电话="13800138000")],
                            orders=[[when, "C1", "S1", 1234.5, None, None]])
    plain = load(path)[0]
    stray_cell(path, "xl/worksheets/sheet1.xml", "XFD1048576")
    stray_cell(path, "xl/worksheets/sheet3.xml", "A1048576")
    register = load(path)[0]
    assert register.customers.loc[0, "created"] == plain.customers.loc[0, "created"] == dt.datetime(2026, 10, 1)
    assert register.customers.loc[0, "phone"] == "13800138000"
    assert register.orders.loc[0, "amount"] == plain.orders.loc[0, "amount"] == 1234.5


def sheet_with_cells(path: Path, cells: dict[tuple[int, int], str], prefix: str = "") -> Path:
    """A workbook whose 客户 sheet holds exactly ``cells`` ((row, column) -> text); with ``prefix``
    its rows and cells are written with a namespace prefix (``<x:row>``), as some tools do."""
    from openpyxl.utils.cell import get_column_letter as column_letters
    minimal_register(path, [])
    rows: dict[int, list] = {}
    p = f"{prefix}:" if prefix else ""
    declare = f' xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix else ""
    for (row, column), value in sorted(cells.items()):
        rows.setdefault(row, []).append(f'<{p}c r="{column_letters(column)}{row}" t="inlineStr"><{p}is><{p}t>{value}'
                                        f'</{p}t></{p}is></{p}c>')
    xml = "".join(f'<{p}row{declare} r="{row}">{"".join(found)}</{p}row>' for row, found in sorted(rows.items()))

    def edit(parts):
        old = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
        parts["xl/worksheets/sheet1.xml"] = re.sub(r"<sheetData>.*</sheetData>|<sheetData/>",
                                                   f"<sheetData>{xml}</sheetData>", old, flags=re.DOTALL).encode("utf-8")
        return parts
    return edit_parts(path, edit)


PLACES = st.tuples(st.one_of(st.integers(2, 40), st.integers(2, 1_048_576)),
                   st.one_of(st.integers(1, 6), st.integers(1, 16_384)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.dictionaries(PLACES, st.sampled_from(["x", "C9", "甲"]), max_size=12))
def test_every_value_inside_the_table_is_read_at_its_row_wherever_the_sheet_reaches(tmp_path_factory, width, data):
    """Compacted or not, each cell under the header is read at its Excel row; nothing else is made up."""
    cells = {(1, c): f"H{c}" for c in range(1, width + 1)} | data
    path = sheet_with_cells(tmp_path_factory.mktemp("far") / "r.xlsx", cells)
    sheet = read_workbook(path).sheets["客户"]
    seen = {}
    for number, row in zip(sheet.row_numbers(), sheet.rows):
        for column in range(1, width + 1):
            value = row[column - 1] if column <= len(row) else ""
            if value != "":
                seen[(number, column)] = value
    assert seen == {place: value for place, value in cells.items() if place[1] <= width}
    from pipeline.read.compact import GAP
    # Bounded by the rows that hold cells (each at most GAP blank rows after the one before), not by the reach.
    assert len(sheet.rows) <= len({row for row, _ in cells}) * (GAP + 1) + 1


def test_a_sheet_written_with_prefixes_is_compacted_by_parsing(tmp_path):
    cells = {(1, 1): "客户编号", (1, 2): "客户名称", (2, 1): "C1", (2, 2): "甲", (1_048_576, 1): "C9",
             (3, 16_384): "far"}
    sheet = read_workbook(sheet_with_cells(tmp_path / "r.xlsx", cells, prefix="x")).sheets["客户"]
    assert list(zip(sheet.row_numbers(), sheet.rows)) == [(1, ["客户编号", "客户名称"]), (2, ["C1", "甲"]),
                                                          (1_048_576, ["C9", ""])]


# --- 3. real-world packages ----------------------------------------------------------------

def test_the_1904_date_system_reads_serial_numbers_from_1904(tmp_path):
    path = tmp_path / "mac.xlsx"
    with xlsxwriter.Workbook(str(path), {"date_1904": True}) as book:
        date_style = book.add_format({"num_format": "yyyy-mm-dd"})
        sheets = {"客户": CUSTOMER_HEADER, "跟进记录": FOLLOWUP_HEADER, "销售": ORDER_HEADER, "业务员": REPS_HEADER}
        ws = {name: book.add_worksheet(name) for name in sheets}
        for name, header in sheets.items():
            ws[name].write_row(0, 0, header)
        ws["客户"].write_row(1, 0, ["C1", "甲"])
        ws["客户"].write_number(1, CUSTOMER_HEADER.index("建档日期"), 44614)      # General: 2026-02-23 in 1904
        ws["客户"].write_datetime(1, CUSTOMER_HEADER.index("预计成交"), dt.datetime(2026, 12, 1), date_style)
        ws["业务员"].write_row(1, 0, ["王强", "w@example.com", "业务员", "是"])
    register, _ = load(path)
    assert register.customers.loc[0, "created"] == dt.datetime(2026, 2, 23)
    assert register.customers.loc[0, "expected_close"] == dt.datetime(2026, 12, 1)


STRICT = [("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main"),
          ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "http://purl.oclc.org/ooxml/officeDocument/relationships")]


def strict(parts):
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")):
            for old, new in STRICT:
                data = data.replace(old.encode(), new.encode())
            parts[name] = data
    return parts


def macro_sheet(parts):
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'<sheet name="Macro1" sheetId="9" r:id="rId99"/></sheets>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/'
                             b'xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" '
                     b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>')
    parts["xl/macrosheets/sheet1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><xm:macrosheet xmlns="http://schemas.openxmlformats.'
        b'org/spreadsheetml/2006/main" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
        b'<row r="1"><c r="A1"><f>RETURN()</f></c></row></sheetData></xm:macrosheet>')
    return parts


def empty_rid(parts):
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'<sheet name="old" sheetId="9" r:id=""/></sheets>')
    return parts


def moved_main_part(parts):
    moved = {}
    for name, data in parts.items():
        name = {"xl/workbook.xml": "xl/book.xml", "xl/_rels/workbook.xml.rels": "xl/_rels/book.xml.rels"}.get(name, name)
        if name in ("_rels/.rels", "[Content_Types].xml"):
            data = data.replace(b"xl/workbook.xml", b"xl/book.xml")
        moved[name] = data
    return moved


def backslash_names(parts):
    """Some Windows tools store ``xl\\workbook.xml`` (seen in calamine's test files)."""
    return {name.replace("/", "\\"): data for name, data in parts.items()}


@pytest.mark.parametrize("edit", [strict, macro_sheet, empty_rid, moved_main_part, backslash_names])
def test_real_world_packages_are_read(tmp_path, edit):
    """macro_sheet, empty_rid and moved_main_part stopped the run before issue 11; strict and
    backslash_names were read already (Strict was refused by the write-back, not the reader)."""
    path = edit_parts(minimal_register(tmp_path / "r.xlsx", [customer("C1", "甲", 建档日期=dt.date(2026, 1, 5))],
                                       orders=[[dt.date(2026, 11, 1), "C1", "S1", 100, None, None]]), edit)
    register, _ = load(path)
    assert list(register.customers["customer_id"]) == ["C1"]
    assert register.customers.loc[0, "created"] == dt.datetime(2026, 1, 5)
    assert list(register.orders["amount"]) == [100.0]
    assert dry_run(path, tmp_path / "out").ok


# --- 6. the right diagnosis for an OLE file ------------------------------------------------

def test_an_old_xls_is_not_called_password_protected(tmp_path):
    import xlwt
    book = xlwt.Workbook()
    book.add_sheet("客户").write(0, 0, "客户编号")
    book.save(str(tmp_path / "r.xls"))
    with pytest.raises(RegisterError) as error:
        read_workbook(tmp_path / "r.xls")
    assert "旧版 Excel" in str(error.value) and ".xlsx" in str(error.value) and "密码" not in str(error.value)


def test_an_encrypted_xlsx_is_called_password_protected(tmp_path):
    """Not a regression test: the encrypted case keeps its diagnosis."""
    from msoffcrypto.format.ooxml import OOXMLFile
    plain = minimal_register(tmp_path / "plain.xlsx", [customer("C1", "甲")])
    with plain.open("rb") as source, (tmp_path / "r.xlsx").open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    with pytest.raises(RegisterError, match="密码"):
        read_workbook(tmp_path / "r.xlsx")
