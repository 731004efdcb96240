"""The in-place register update (issue #4): nothing but the computed columns may change."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from python_calamine import CalamineWorkbook

from pipeline.model import Register, State
from pipeline.writeback import stream as register_stream
from pipeline.writeback import update as writeback
from pipeline.writeback.lock import backups_of, lock_owner
from pipeline.writeback.package import Package, write_package
from pipeline.writeback.update import OutColumn, build_updated, find_lock, snapshot, update_register
from tests.xlsx_fixtures import CUSTOMER_HEADERS, build_rich_register, computed_columns

REPO = Path(__file__).resolve().parent.parent
SHEET = "xl/worksheets/sheet1.xml"
OWNED_PARTS = {SHEET, "xl/styles.xml", "xl/tables/table1.xml"}
STAMP = "2026-11-23T0130"


@pytest.fixture(scope="module")
def rich_bytes(tmp_path_factory) -> bytes:
    return build_rich_register(tmp_path_factory.mktemp("rich") / "客户台账.xlsx").read_bytes()


@pytest.fixture
def register(tmp_path, rich_bytes) -> Path:
    path = tmp_path / "share" / "客户台账.xlsx"
    path.parent.mkdir()
    path.write_bytes(rich_bytes)
    return path


def run(register: Path, columns=None, keep: int = 5, stamp: str = STAMP, read=None):
    return update_register(register, "客户", computed_columns() if columns is None else columns,
                           read_snapshot=read or snapshot(register),
                           backup_dir=register.parent.parent / "output" / "backups",
                           keep_backups=keep, stamp=stamp)


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def sheet_rows(data: bytes, name: str = "客户") -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def load_warnings(path: Path) -> tuple[openpyxl.Workbook, set[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        book = openpyxl.load_workbook(path)
    return book, {str(w.message) for w in caught}


# --- what the update changes, and what it leaves alone -----------------------------------

def test_every_part_but_the_owned_ones_is_byte_identical(register, rich_bytes):
    result = run(register)
    assert (result.status, result.reason_code) == ("written", "")
    before, after = parts(rich_bytes), parts(register.read_bytes())
    assert list(after) == list(before)            # same parts, same zip order
    changed = {name for name in before if before[name] != after[name]}
    assert changed == OWNED_PARTS
    assert result.backup.read_bytes() == rich_bytes
    assert result.backup.name == f"客户台账.{STAMP}.xlsx"


def test_only_the_computed_columns_change_in_the_customer_sheet(register, rich_bytes):
    run(register)
    before, after = sheet_rows(rich_bytes), sheet_rows(register.read_bytes())
    header = after[0]
    owned = {header.index(h) for h in ("等级", "下次跟进", "逾期天数", "流失风险", "档案完整度", "欠款")}
    assert header[:len(CUSTOMER_HEADERS)] == CUSTOMER_HEADERS
    assert header[len(CUSTOMER_HEADERS):] == ["逾期天数", "流失风险", "档案完整度", "欠款"]
    for r, row in enumerate(before):
        for c, value in enumerate(row):
            if c not in owned:
                assert after[r][c] == value, (r, c)
    grade, due = header.index("等级"), header.index("下次跟进")
    assert [row[grade] for row in after[1:]] == ["A", "D", "E", "C"]
    assert after[1][due] == dt.date(2026, 11, 24)
    assert after[3][due] == ""                     # no value any more: the stale date is gone


def test_written_cells_have_real_dates_and_number_formats(register):
    run(register)
    book, _ = load_warnings(register)
    sheet = book["客户"]
    assert sheet["K2"].is_date and sheet["K2"].value == dt.datetime(2026, 11, 24)
    assert sheet["K3"].is_date and sheet["K3"].number_format == "yyyy/m/d"   # looks like K2
    assert sheet["O3"].number_format == "0%" and sheet["O3"].value == pytest.approx(7 / 9)
    assert sheet["P3"].number_format == "#,##0.00" and sheet["P3"].value == 1234.5
    assert sheet["M5"].value == 12 and sheet["N2"].value == "高"
    assert sheet["I2"].value == "=LEN(B2)"         # the staff formula is still there
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["B"].width == pytest.approx(22.7109375)


def test_styles_only_grow(register, rich_bytes):
    run(register)
    old = etree.fromstring(parts(rich_bytes)["xl/styles.xml"])
    new = etree.fromstring(parts(register.read_bytes())["xl/styles.xml"])
    for old_list in old:
        new_list = new.find(old_list.tag)
        assert len(new_list) >= len(old_list)
        for before, after in zip(old_list, new_list):
            assert etree.tostring(before, method="c14n") == etree.tostring(after, method="c14n")


def test_the_table_grows_over_added_headers(register):
    run(register)
    book, _ = load_warnings(register)
    table = book["客户"].tables["客户表"]
    assert table.ref == "A1:P5" and table.autoFilter.ref == "A1:P5"
    assert [c.name for c in table.tableColumns][-4:] == ["逾期天数", "流失风险", "档案完整度", "欠款"]
    assert [c.id for c in table.tableColumns] == list(range(1, 17))


def test_openpyxl_warns_no_more_than_for_the_original(register, tmp_path, rich_bytes):
    original = tmp_path / "original.xlsx"
    original.write_bytes(rich_bytes)
    run(register)
    _, before = load_warnings(original)
    book, after = load_warnings(register)
    assert after <= before
    assert book["选项"].sheet_state == "hidden"
    assert set(book.defined_names) >= {"客户名单", "需求选项"}


def test_a_second_run_with_the_same_values_changes_nothing(register):
    assert run(register).status == "written"
    first = register.read_bytes()
    result = run(register, stamp="2026-11-24T0130")
    assert (result.status, result.backup) == ("unchanged", None)
    assert register.read_bytes() == first


def test_rules_and_styles_are_added_once_over_many_nights(register):
    run(register)
    first = parts(register.read_bytes())
    for day in (25, 26):
        assert run(register, computed_columns(day), stamp=f"2026-11-{day}").status == "written"
    last = parts(register.read_bytes())
    assert last["xl/styles.xml"] == first["xl/styles.xml"]
    assert last["xl/tables/table1.xml"] == first["xl/tables/table1.xml"]
    sheet = etree.fromstring(last[SHEET])
    ranges = [cf.get("sqref") for cf in sheet.iter("{*}conditionalFormatting")]
    assert ranges == ["C2:C200", "J2:J1048576", "M2:M1048576", "N2:N1048576", "K2:K1048576"]


def test_rewriting_is_deterministic(rich_bytes):
    once = build_updated(rich_bytes, "客户", computed_columns()).data
    assert build_updated(rich_bytes, "客户", computed_columns()).data == once
    assert build_updated(once, "客户", computed_columns()).data == once


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_the_result(register, tmp_path):
    run(register)
    out = tmp_path / "lo"
    done = subprocess.run(["soffice", "--headless", "--norestore",
                           f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                           "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(register)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = (out / "客户台账.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",")[-4:] == ["逾期天数", "流失风险", "档案完整度", "欠款"]
    assert lines[1].split(",")[9] == "A"


# --- sheets without a table, sparse rows, other writers --------------------------------

def test_missing_rows_and_cells_are_created_in_order(tmp_path):
    path = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": True})
    sheet = book.add_worksheet("Customers")
    sheet.write_row(0, 0, ["customer_id", "name", "grade", "notes"])
    sheet.write_row(1, 0, ["C1", "甲", "B"])
    sheet.write_row(4, 0, ["C4", "丁", None, "x"])
    book.close()
    columns = [OutColumn("等级", "text", {2: "A", 4: "B", 5: "C", 7: "D"}, ("等級", "grade")),
               OutColumn("下次跟进", "date", {7: dt.date(2026, 11, 24)})]
    data = build_updated(path.read_bytes(), "Customers", columns).data
    sheet_xml = etree.fromstring(parts(data)["xl/worksheets/sheet1.xml"])
    rows = [int(r.get("r")) for r in sheet_xml.iter("{*}row")]
    assert rows == sorted(rows) == [1, 2, 4, 5, 7]
    for row in sheet_xml.iter("{*}row"):
        refs = [c.get("r") for c in row.iter("{*}c")]
        assert refs == sorted(refs, key=lambda ref: (len(ref), ref))
    assert sheet_xml.find("{*}dimension").get("ref") == "A1:E7"
    values = sheet_rows(data, "Customers")
    assert [row[2] for row in values] == ["grade", "A", "", "B", "C", "", "D"]
    assert values[0][4] == "下次跟进" and values[6][4] == dt.date(2026, 11, 24)


def test_rows_and_cells_without_references_are_placed_by_position(tmp_path):
    path = tmp_path / "no-refs.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("客户").write_row(0, 0, ["客户编号", "等级", "备注"])
    book.worksheets()[0].write_row(1, 0, ["C1", "Z", "keep"])
    book.close()
    package = Package(path.read_bytes())
    bare = re.sub(rb' r="[A-Z]*[0-9]+"', b"", package.read(SHEET))
    assert b' r="' not in bare.split(b"<sheetData>")[1]
    data = write_package(package, {SHEET: bare})
    updated = build_updated(data, "客户", [OutColumn("等级", "text", {2: "B"})]).data
    assert sheet_rows(updated) == [["客户编号", "等级", "备注"], ["C1", "B", "keep"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_any_text_reads_back_as_written(rich_bytes, value):
    column = OutColumn("风险原因", "text", {2: value})
    data = build_updated(rich_bytes, "客户", [column]).data
    assert sheet_rows(data)[1][12] == value      # calamine decodes _xHHHH_ as Excel does


def test_traditional_header_is_found_not_added(tmp_path):
    path = tmp_path / "tw.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("客戶").write_row(0, 0, ["客戶編號", "等級"])
    book.close()
    data = build_updated(path.read_bytes(), "客戶", computed_columns()[:1]).data
    assert sheet_rows(data, "客戶")[0] == ["客戶編號", "等級"]


def test_computed_columns_come_from_the_runs_state():
    register = Register.from_records(customers=[{"customer_id": "C1", "name": "甲"},
                                                {"customer_id": "C2", "name": "乙", "row": 7}])
    customers = register.customers.assign(
        grade=["A", ""], key_account=[True, False],
        next_follow_up=pd.to_datetime(["2026-11-24", None]),
        overdue_days=[3, 0], completeness=[0.5, float("nan")])
    state = State.start(register, dt.date(2026, 11, 23))
    columns = {c.header: c for c in writeback.computed_columns(
        State(register, state.today, state.run_date, customers))}
    assert set(columns) == {"等级", "重点客户", "最近联系", "下次跟进", "逾期天数", "档案完整度"}
    assert columns["等级"].values == {2: "A", 7: None}
    assert columns["重点客户"].values == {2: "是", 7: "否"}
    assert columns["下次跟进"].values == {2: dt.date(2026, 11, 24), 7: None}
    assert columns["逾期天数"].values == {2: 3, 7: 0} and columns["逾期天数"].kind == "int"
    assert columns["档案完整度"].values == {2: 0.5, 7: None}
    assert "等級" in columns["等级"].aliases


# --- refusals ----------------------------------------------------------------------------

def office_owner_file(name: str) -> bytes:
    """An Excel owner file laid out the way Excel writes it (165 bytes)."""
    ansi = name.encode("gbk")
    data = bytes([len(name)]) + ansi + b" " * (54 - len(ansi))
    data += bytes([len(name), 0]) + name.encode("utf-16-le")
    return (data + b" \x00" * 80)[:165]


LOCKS = [
    ("~$客户台账.xlsx", office_owner_file("张三"), "张三"),
    ("~$客户台账.xlsx", office_owner_file("Li Si"), "Li Si"),
    ("~$台账.xlsx", office_owner_file("王五"), "王五"),          # long-name variant
    (".~lock.客户台账.xlsx#", ",赵六,FRONT-DESK,23.11.2026 08:01,file:///C:/Users/zl/AppData/"
     "Roaming/LibreOffice/4;".encode(), "赵六"),
    (".~lock.客户台账.xlsx#", ",,shop-pc,23.11.2026 08:01,file:///home/shop/.config/"
     "libreoffice/4;".encode(), None),
    (".~客户台账.xlsx", b"", None),                                  # WPS on Linux
]


@pytest.mark.parametrize("lock_name, content, owner", LOCKS)
def test_refuses_while_open_and_says_who_holds_it(register, rich_bytes, lock_name, content, owner):
    read = snapshot(register)
    (register.parent / lock_name).write_bytes(content)
    assert find_lock(register)[0].name == lock_name
    result = run(register, read=read)
    assert (result.status, result.reason_code, result.lock_owner) == ("refused", "locked", owner)
    assert lock_name in result.reason and (owner is None or owner in result.reason)
    assert register.read_bytes() == rich_bytes
    assert not (register.parent.parent / "output" / "backups").exists()


def test_libreoffice_owner_with_escaped_comma(tmp_path):
    lock = tmp_path / ".~lock.a.xlsx#"
    lock.write_bytes(r"Wang\, Wu,wangwu,pc,date,url;".encode())
    assert lock_owner(lock) == "Wang, Wu"


def test_refuses_when_the_file_changed_since_it_was_read(register):
    read = snapshot(register)
    book = openpyxl.load_workbook(register)       # a colleague saves an edit meanwhile
    book["客户"]["L3"] = "刚改的备注"
    book.save(register)
    edited = register.read_bytes()
    result = run(register, read=read)
    assert (result.status, result.reason_code) == ("refused", "changed")
    assert result.reason and register.read_bytes() == edited


def test_a_crash_just_before_the_replace_leaves_register_and_backup_intact(register, rich_bytes):
    script = f"""
import os, sys
sys.path[:0] = [{str(REPO)!r}]
from pathlib import Path
from pipeline.writeback.update import snapshot, update_register
from tests.xlsx_fixtures import computed_columns
path = Path({str(register)!r})
read = snapshot(path)
real_replace, calls = os.replace, []
def replace(*args, **kwargs):                         # the backup's rename goes through,
    calls.append(args)
    if len(calls) == 2:
        os._exit(17)                                  # the machine dies before the register's
    real_replace(*args, **kwargs)
os.replace = replace
update_register(path, "客户", computed_columns(), read_snapshot=read,
                backup_dir=path.parent.parent / "output" / "backups", keep_backups=5,
                stamp={STAMP!r})
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 17, done.stderr
    assert register.read_bytes() == rich_bytes
    [backup] = backups_of(register, register.parent.parent / "output" / "backups")
    assert backup.read_bytes() == rich_bytes
    result = run(register)                           # the next night just works
    assert result.status == "written" and result.backup.name.endswith("_2.xlsx")
    assert not [p for p in register.parent.iterdir() if p.name != register.name]


@pytest.mark.parametrize("content, sheet, code", [
    (b"not a zip at all", "客户", "not_xlsx"),
    (None, "客户资料", "sheet_missing"),
])
def test_refuses_a_file_it_cannot_update(register, content, sheet, code):
    if content is not None:
        register.write_bytes(content)
    before = register.read_bytes()
    result = update_register(register, sheet, computed_columns(), read_snapshot=snapshot(register),
                             backup_dir=register.parent / "b", keep_backups=3, stamp=STAMP)
    assert (result.status, result.reason_code) == ("refused", code) and result.reason
    assert register.read_bytes() == before


def test_a_table_without_a_range_is_refused_not_a_crash(register):
    package = Package(register.read_bytes())
    table = package.read("xl/tables/table1.xml")
    broken = re.sub(rb'(<table [^>]*?) ref="[^"]*"', rb'\1 ref=""', table, count=1)
    assert broken != table
    register.write_bytes(write_package(package, {"xl/tables/table1.xml": broken}))
    before = register.read_bytes()
    result = run(register)
    assert (result.status, result.reason_code) == ("refused", "bad_xml") and result.reason
    assert register.read_bytes() == before


def test_a_changed_staff_cell_fails_verification(rich_bytes):
    update = build_updated(rich_bytes, "客户", computed_columns())
    package = Package(update.data)
    tampered_sheet = package.read(SHEET).replace(b"<v>45717</v>", b"<v>45718</v>")
    tampered = write_package(package, {SHEET: tampered_sheet})
    assert writeback.staff_difference(rich_bytes, update.data, "客户", update) is None
    assert writeback.staff_difference(rich_bytes, tampered, "客户", update) == "客户!H2"
    logs = write_package(package, {"xl/worksheets/sheet2.xml": b"<x/>"})
    assert writeback.staff_difference(rich_bytes, logs, "客户", update) == "xl/worksheets/sheet2.xml"


def test_backups_keep_the_newest_n(register):
    backups = register.parent.parent / "output" / "backups"
    made = []
    for day in (25, 26, 27, 28):
        result = run(register, computed_columns(day), keep=2, stamp="2026-11-23")
        made.append(result.backup.read_bytes())
        assert result.status == "written" and result.backup.parent == backups
    kept = backups_of(register, backups)
    assert [p.read_bytes() for p in kept] == made[-2:]
    assert len({p.name for p in kept}) == 2


def test_backups_are_ordered_by_the_stamp_in_their_name_not_file_times(tmp_path):
    """A copied backup folder gets fresh file times: the names still say which is newest."""
    register = tmp_path / "客户台账.xlsx"
    names = ["客户台账.2026-11-20.xlsx", "客户台账.2026-11-21.xlsx", "客户台账.2026-11-21_2.xlsx",
             "客户台账.2026-11-21_10.xlsx", "客户台账.2026-11-22.xlsx"]
    for age, name in enumerate(names):              # the newest name gets the oldest time
        (tmp_path / name).write_bytes(name.encode())
        os.utime(tmp_path / name, ns=(10**18 - age * 10**9, 10**18 - age * 10**9))
    assert [p.name for p in backups_of(register, tmp_path)] == names


# --- streaming: the sheet is written row batch by row batch ------------------------------

def pretty_printed(data: bytes) -> bytes:
    """The register with its customer sheet re-indented (whitespace between rows and cells)."""
    package = Package(data)
    root = etree.fromstring(package.read(SHEET))
    etree.indent(root)
    return write_package(package, {SHEET: etree.tostring(root, xml_declaration=True,
                                                         encoding="UTF-8", standalone=True)})


@pytest.mark.parametrize("pretty", [False, True])
def test_the_batch_size_does_not_change_a_byte(rich_bytes, monkeypatch, pretty):
    source = pretty_printed(rich_bytes) if pretty else rich_bytes
    whole = build_updated(source, "客户", computed_columns()).data
    monkeypatch.setattr(register_stream, "_BATCH", 1)
    assert build_updated(source, "客户", computed_columns()).data == whole
    sheet = parts(whole)[SHEET]
    assert sheet.count(b"<row ") == len(sheet_rows(whole))
    if pretty:
        assert b"</row>\n" in sheet and sheet_rows(whole) == sheet_rows(
            build_updated(rich_bytes, "客户", computed_columns()).data)


def test_a_restyled_staff_cell_fails_verification(rich_bytes):
    update = build_updated(rich_bytes, "客户", computed_columns())
    package = Package(update.data)
    sheet = package.read(SHEET)
    cell = re.search(rb'<c r="B3"( s="\d+")?', sheet)
    restyled = sheet.replace(cell.group(0), b'<c r="B3" s="0"' if cell.group(1) else
                             b'<c r="B3" s="1"', 1)
    tampered = write_package(package, {SHEET: restyled})
    assert writeback.staff_difference(rich_bytes, tampered, "客户", update) == "客户!B3"


def test_rows_out_of_order_are_refused(register, rich_bytes):
    package = Package(rich_bytes)
    sheet = package.read(SHEET)
    rows = re.findall(rb"<row [^>]*>.*?</row>", sheet)
    swapped = sheet.replace(rows[1] + rows[2], rows[2] + rows[1])
    register.write_bytes(write_package(package, {SHEET: swapped}))
    before = register.read_bytes()
    result = run(register)
    assert (result.status, result.reason_code) == ("refused", "bad_xml")
    assert register.read_bytes() == before


def test_new_headers_go_after_data_that_reaches_past_the_header_row(tmp_path):
    path = tmp_path / "wide.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, ["客户编号", "名称"])
    sheet.write_row(1, 0, ["C1", "甲", None, None, None, None, "没有表头的备注"])
    sheet.write_datetime(2, 5, dt.datetime(2026, 1, 2), book.add_format({"num_format": "yyyy/m/d"}))
    book.close()
    # Placed after row 1 alone, 逾期天数 would land on the date in F3 and need a new style.
    columns = [OutColumn("等级", "text", {2: "A", 3: "B"}), OutColumn("客户状态", "text", {}),
               OutColumn("重点客户", "text", {}), OutColumn("逾期天数", "int", {3: 5})]
    data = build_updated(path.read_bytes(), "客户", columns).data
    rows = sheet_rows(data)
    assert rows[0][7:] == ["等级", "客户状态", "重点客户", "逾期天数"]
    assert rows[1][6] == "没有表头的备注" and rows[2][5] == dt.date(2026, 1, 2)
    assert [row[7] for row in rows[1:]] == ["A", "B"] and rows[2][10] == 5
    styles = etree.fromstring(parts(data)["xl/styles.xml"])
    assert len(styles.find("{*}cellXfs")) == 2     # the discarded first pass left no style


# --- widths of the added columns ---------------------------------------------------------

def widths(data: bytes, name: str = "客户") -> dict[str, float]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {letter: d.width for letter, d in book[name].column_dimensions.items()
            if d.customWidth}


def test_added_columns_get_widths_and_staff_widths_stay(register, rich_bytes):
    before = widths(rich_bytes)
    run(register)
    after = widths(register.read_bytes())
    assert {k: after[k] for k in before} == before              # A, B and L as the staff set them
    assert {k: after[k] for k in after.keys() - before.keys()} == {
        "M": 11, "N": 10, "O": 12, "P": 12}                    # 逾期天数 流失风险 档案完整度 欠款
    cols = etree.fromstring(parts(register.read_bytes())[SHEET]).find("{*}cols")
    spans = [(int(c.get("min")), int(c.get("max"))) for c in cols]
    assert spans == sorted(spans) and all(a[1] < b[0] for a, b in zip(spans, spans[1:]))


def test_a_sheet_without_cols_gets_them_before_its_data(tmp_path):
    path = tmp_path / "bare.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("客户").write_row(0, 0, ["客户编号", "名称"])
    book.worksheets()[0].write_row(1, 0, ["C1", "甲"])
    book.close()
    columns = [OutColumn("下次跟进", "date", {2: dt.date(2026, 11, 24)}),
               OutColumn("风险原因", "text", {2: "超过 90 天没有联系，上次成交后没有回访"}, width=48),
               OutColumn("等级", "text", {2: "A"})]
    data = build_updated(path.read_bytes(), "客户", columns).data
    assert widths(data) == {"C": 12, "D": 48, "E": 10}
    tags = [etree.QName(child).localname for child in etree.fromstring(parts(data)[SHEET])]
    assert tags.index("sheetFormatPr") < tags.index("cols") == tags.index("sheetData") - 1
    assert build_updated(data, "客户", columns).data == data     # the second night adds nothing


def test_a_staff_col_over_the_new_columns_keeps_its_width(tmp_path):
    path = tmp_path / "wide-cols.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, ["客户编号", "名称"])
    sheet.set_column("C:H", 20)
    book.close()
    data = build_updated(path.read_bytes(), "客户",
                         [OutColumn("下次跟进", "date", {2: dt.date(2026, 11, 24)})]).data
    assert widths(data) == widths(path.read_bytes()) == {"C": pytest.approx(20.7109375)}
    cols = etree.fromstring(parts(data)[SHEET]).find("{*}cols")
    assert [(c.get("min"), c.get("max")) for c in cols] == [("3", "8")]


def test_the_run_gives_reasons_room_to_read():
    register = Register.from_records(customers=[{"customer_id": "C1", "name": "甲"}])
    state = State.start(register, dt.date(2026, 11, 23))
    customers = register.customers.assign(churn_reason=["超过 90 天没有联系"], grade=["A"])
    columns = {c.header: c.width for c in writeback.computed_columns(
        State(register, state.today, state.run_date, customers))}
    assert columns["风险原因"] == 48 and columns["等级"] is None      # None: by its kind


def drop_row_3(sheet: bytes) -> bytes:
    return re.sub(rb'<row r="3".*?</row>', b"", sheet, count=1, flags=re.S)


def add_staff_row(sheet: bytes) -> bytes:
    return sheet.replace(b"</sheetData>",
                         b'<row r="9"><c r="B9" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')


@pytest.mark.parametrize("tamper, where", [
    (drop_row_3, "客户!A3"),
    (add_staff_row, "客户!B9"),
    (lambda s: s.replace(b'<row r="4" spans="1:15">', b'<row r="4" spans="1:15" ht="30" '
                         b'customHeight="1">'), "客户!4:4"),
    (lambda s: s.replace(b'<row r="4" spans="1:15">', b'<row r="4" spans="1:9">'), None),
])
def test_the_new_sheet_is_checked_row_by_row(rich_bytes, tamper, where):
    update = build_updated(rich_bytes, "客户", computed_columns())
    package = Package(update.data)
    tampered = write_package(package, {SHEET: tamper(package.read(SHEET))})
    assert tampered != update.data          # else the None case would pass vacuously
    assert writeback.staff_difference(rich_bytes, tampered, "客户", update) == where


def formatted_empty_rows() -> bytes:
    """Row 3 holds only the pipeline's cell and a staff height; row 4 is only hidden."""
    data = io.BytesIO()
    book = xlsxwriter.Workbook(data)
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, ["客户编号", "名称"])
    sheet.write_row(1, 0, ["C1", "甲"])
    sheet.set_row(2, 30)
    sheet.set_row(3, None, None, {"hidden": True})
    book.close()
    return data.getvalue()


@pytest.mark.parametrize("tamper, where", [
    (lambda s: s.replace(b'ht="30"', b'ht="40"'), "客户!3:3"),
    (lambda s: s.replace(b'<row r="4" hidden="1"', b'<row r="4"'), "客户!4:4"),
])
def test_a_changed_format_of_a_row_without_staff_cells_is_caught(tamper, where):
    original = formatted_empty_rows()
    update = build_updated(original, "客户", [OutColumn("下次跟进", "date", {
        2: dt.date(2026, 11, 24), 3: dt.date(2026, 11, 25)})])
    package = Package(update.data)
    tampered = write_package(package, {SHEET: tamper(package.read(SHEET))})
    assert tampered != update.data
    assert writeback.staff_difference(original, update.data, "客户", update) is None
    assert writeback.staff_difference(original, tampered, "客户", update) == where


def test_every_original_row_with_staff_cells_is_digested(rich_bytes):
    update = build_updated(rich_bytes, "客户", computed_columns())
    assert [r for r, _ in update.staff_rows.rows] == [1, 2, 3, 4, 5]
    assert writeback.staff_difference(rich_bytes, update.data, "客户", update) is None


def test_a_shared_strings_part_with_a_doctype_is_refused_not_read(rich_bytes):
    """Every part the update reads goes through the same XML-bomb-safe settings."""
    from pipeline.writeback.package import PackageError, shared_strings
    package = Package(rich_bytes)
    part = next(name for name in parts(rich_bytes) if name.endswith("sharedStrings.xml"))
    bomb = parts(rich_bytes)[part].replace(b"?>", b'?><!DOCTYPE sst [<!ENTITY a "aaaa">]>', 1)
    replaced = Package(write_package(package, {part: bomb}))
    with pytest.raises(PackageError, match="DOCTYPE"):
        shared_strings(replaced, part, {0})
