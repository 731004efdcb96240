"""The register's view after the write-back (issue 14): filter buttons over the computed
columns, 客户名称 frozen, 下次跟进 coloured against TODAY().  Read back with openpyxl,
as a user's program would."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from lxml import etree

from pipeline.writeback.update import OutColumn, build_updated

HEADERS = ["客户编号", "客户名称", "联系人", "电话", "业务员"]
ROWS = [["C001", "鑫达汽修厂", "王师傅", "13800138000", "王强"],
        ["C002", "顺风车队", "李队长", "13900139000", "李娜"],
        ["C003", "华南配件", "赵经理", "13700137000", "王强"]]


def columns() -> list[OutColumn]:
    return [OutColumn("等级", "text", {2: "A", 3: "B", 4: "E"}),
            OutColumn("下次跟进", "date", {2: dt.date(2026, 11, 20), 3: dt.date(2026, 11, 23)}),
            OutColumn("流失风险", "text", {2: "高", 3: "中"})]


def register(path: Path, *, view=None, headers=HEADERS, filter_to: int | None = None) -> bytes:
    """A register's 客户 sheet; ``view(sheet)`` sets the staff's panes;
    ``filter_to``: the AutoFilter's last column (0-based), None = the whole header."""
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("客户")
        sheet.write_row(0, 0, headers)
        for r, row in enumerate(ROWS, start=1):
            sheet.write_row(r, 0, row)
        sheet.autofilter(0, 0, len(ROWS), len(headers) - 1 if filter_to is None else filter_to)
        if view:
            view(sheet)
    return path.read_bytes()


def updated(tmp_path: Path, data: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    out = tmp_path / "after.xlsx"
    out.write_bytes(build_updated(data, "客户", columns()).data)
    return openpyxl.load_workbook(out)["客户"]


def test_the_sheet_filter_grows_over_the_computed_columns(tmp_path):
    sheet = updated(tmp_path, register(tmp_path / "r.xlsx"))
    assert [c.value for c in sheet[1]] == HEADERS + ["等级", "下次跟进", "流失风险"]
    assert sheet.auto_filter.ref == "A1:H4"


def test_a_filter_that_stops_short_of_the_computed_columns_stays(tmp_path):
    sheet = updated(tmp_path, register(tmp_path / "r.xlsx", filter_to=2))
    assert sheet.auto_filter.ref == "A1:C4"


@pytest.mark.parametrize("view, frozen", [
    (None, "C2"),                                           # nothing frozen: row 1 and A:B
    (lambda s: s.freeze_panes(1, 0), "C2"),                 # the header row only
    (lambda s: s.freeze_panes(2, 0), "C3"),                 # two rows: kept, columns added
    (lambda s: s.freeze_panes(1, 1), "B2"),                 # staff froze a column: theirs
    (lambda s: s.freeze_panes(1, 3), "D2"),
])
def test_the_name_is_frozen_unless_the_staff_froze_columns(tmp_path, view, frozen):
    sheet = updated(tmp_path, register(tmp_path / "r.xlsx", view=view))
    assert sheet.freeze_panes == frozen
    assert sheet.sheet_view.pane.state == "frozen"
    if frozen.startswith("C"):
        assert sheet.sheet_view.pane.activePane == "bottomRight"
        assert [s.pane for s in sheet.sheet_view.selection] == ["topRight", "bottomLeft",
                                                                "bottomRight"]


def test_a_staff_split_is_never_turned_into_a_freeze(tmp_path):
    data = register(tmp_path / "r.xlsx", view=lambda s: s.split_panes(15, 0))
    before = openpyxl.load_workbook(io.BytesIO(data))["客户"].sheet_view.pane
    pane = updated(tmp_path, data).sheet_view.pane
    assert (pane.state, pane.xSplit, pane.ySplit, pane.topLeftCell) == (
        "split", before.xSplit, before.ySplit, before.topLeftCell)


def test_a_name_far_to_the_right_freezes_the_header_row_only(tmp_path):
    headers = ["客户编号", "联系人", "电话", "业务员", "地区", "客户名称"]
    rows = [[*row[:1], *row[2:], "深圳", row[1]] for row in ROWS]
    path = tmp_path / "r.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("客户")
        sheet.write_row(0, 0, headers)
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, row)
    assert updated(tmp_path, path.read_bytes()).freeze_panes == "A2"


def test_next_follow_up_is_coloured_against_today(tmp_path):
    sheet = updated(tmp_path, register(tmp_path / "r.xlsx"))
    rules = {str(cf.sqref): [(r.type, r.formula[0], r.dxf.fill.bgColor.rgb) for r in cf.rules]
             for cf in sheet.conditional_formatting}
    assert rules["G2:G1048576"] == [
        ("expression", "AND(ISNUMBER(G2),G2<TODAY())", "FFFFC7CE"),     # overdue: red
        ("expression", "AND(ISNUMBER(G2),G2=TODAY())", "FFF8CBAD")]     # due today: orange
    # the same palette as 流失风险 高 / 中
    assert [fill for _, _, fill in rules["H2:H1048576"]] == ["FFFFC7CE", "FFF8CBAD"]


def test_the_view_is_changed_once_over_many_nights(tmp_path):
    once = build_updated(register(tmp_path / "r.xlsx"), "客户", columns()).data
    assert build_updated(once, "客户", columns()).data == once
    with zipfile.ZipFile(io.BytesIO(once)) as z:
        sheet = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    assert len(sheet.findall(".//{*}pane")) == 1
    assert len(sheet.findall(".//{*}conditionalFormatting")) == 3


def defined_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book = etree.fromstring(z.read("xl/workbook.xml"))
    return [n.text for n in book.iter("{*}definedName")]


def test_the_filter_database_name_grows_with_the_filter(tmp_path):
    data = register(tmp_path / "r.xlsx")
    assert defined_names(data) == ["客户!$A$1:$E$4"]
    once = build_updated(data, "客户", columns()).data
    assert defined_names(once) == ["客户!$A$1:$H$4"]
    book = openpyxl.load_workbook(io.BytesIO(once))
    assert book["客户"].auto_filter.ref == "A1:H4"


def test_libreoffice_shows_filter_buttons_over_the_computed_columns(tmp_path):
    import shutil
    import subprocess
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if not office:
        pytest.skip("LibreOffice not installed")
    path = tmp_path / "after.xlsx"
    path.write_bytes(build_updated(register(tmp_path / "r.xlsx"), "客户", columns()).data)
    out = tmp_path / "out"
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    sheet = openpyxl.load_workbook(out / "after.xlsx")["客户"]
    assert sheet.auto_filter.ref == "A1:H4"
    assert [str(cf.sqref) for cf in sheet.conditional_formatting][-1] == "G2:G1048576"


def test_a_filter_short_of_computed_columns_from_an_earlier_night_grows(tmp_path):
    # An older run added the computed headers but left the staff's filter where it was.
    headers = HEADERS + ["等级", "下次跟进", "流失风险"]
    sheet = updated(tmp_path, register(tmp_path / "r.xlsx", headers=headers, filter_to=4))
    assert [c.value for c in sheet[1]] == headers
    assert sheet.auto_filter.ref == "A1:H4"
