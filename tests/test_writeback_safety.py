"""Issue 11 §2: nothing staff-owned is lost by the write-back.

End to end through the command line (pipeline.cli.main) with real files: a shared formula
written at the XML level, a real symbolic link, a real chmod/chown'ed register, a
formatted empty header cell, a signed workbook, a backup killed mid-copy.  Workbook
shapes the read side does not take yet (Strict OOXML, a macro sheet, a moved workbook
part) are checked at the writer (update_register).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.writeback import update as writeback
from pipeline.writeback.formulas import FormulaCarrier
from pipeline.writeback.lock import backups_of
from pipeline.writeback.update import snapshot, update_register
from tests.register_builder import CUSTOMER_HEADER, FOLLOWUP_HEADER, ORDER_HEADER, REPS_HEADER, customer
from tests.xlsx_fixtures import computed_columns

REPO = Path(__file__).resolve().parent.parent
DAY = "2026-11-23"
SHEET = "xl/worksheets/sheet1.xml"


# --- building registers --------------------------------------------------------------------

def build_shop(path: Path, extra_headers=(), extra_cells=None, header_format=None,
               blank_header_cells=()) -> Path:
    """A small real register; ``extra_cells(row_number, customer_row)`` -> extra values
    (a str starting with "=" is a formula).  Headers are bold when ``header_format``."""
    customers = [customer("C1", "鑫达汽修厂", 需求="明确", 预计成交=dt.date(2026, 12, 1),
                          建档日期=dt.date(2026, 1, 5)),
                 customer("C2", "顺通车队", 需求="无", 建档日期=dt.date(2026, 1, 5)),
                 customer("C3", "华南配件", 需求="潜在", 建档日期=dt.date(2026, 1, 5))]
    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": dt.datetime(2026, 1, 1)})
        date_style = book.add_format({"num_format": "yyyy-mm-dd"})
        bold = book.add_format(header_format) if header_format else None
        sheet = book.add_worksheet("客户")
        headers = [*CUSTOMER_HEADER, *extra_headers]
        sheet.write_row(0, 0, headers, bold)
        for column, style in blank_header_cells:
            sheet.write_blank(0, column, None, book.add_format(style))
        for r, row in enumerate(customers, start=1):
            values = [*row, *(extra_cells(r + 1, row) if extra_cells else ())]
            for c, value in enumerate(values):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_style)
                elif isinstance(value, str) and value.startswith("="):
                    sheet.write_formula(r, c, value, None, 0)
                elif value is not None:
                    sheet.write(r, c, value)
        for name, header, rows in (
                ("跟进记录", FOLLOWUP_HEADER, [[dt.date(2026, 11, 1), "C1", "王强", "电话", "问刹车片"]]),
                ("销售", ORDER_HEADER, [[dt.date(2026, 10, 1), "C1", "SO-1", 1200]]),
                ("业务员", REPS_HEADER, [["王强", "wangqiang@example.com", "业务员", "是"],
                                      ["陈总", "boss@example.com", "主管", "是"]])):
            other = book.add_worksheet(name)
            other.write_row(0, 0, header)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    if isinstance(value, dt.date):
                        other.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_style)
                    else:
                        other.write(r, c, value)
    return path


def zip_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def rezip(path: Path, parts: dict[str, bytes]) -> None:
    """Write ``parts`` (in their order) as the package at ``path``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def edit_parts(path: Path, edit) -> None:
    parts = zip_parts(path.read_bytes())
    edit(parts)
    rezip(path, parts)


def run(tmp_path: Path, register: Path, *args: str, config: str = "") -> int:
    config_path = tmp_path / "config.toml"
    config_path.write_text("[register]\ncreate_demo_if_missing = false\n" + config, encoding="utf-8")
    return main(["--config", str(config_path), "--output", str(tmp_path / "out"),
                 "--register", str(register), "--date", DAY, *args], environ={})


def facts(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / DAY / "summary.json").read_text(encoding="utf-8"))


def formulas(path: Path, sheet: str = "客户") -> dict[str, str]:
    """Every formula of the sheet as openpyxl reads it (shared children resolved)."""
    book = openpyxl.load_workbook(path)
    return {cell.coordinate: cell.value for row in book[sheet].iter_rows() for cell in row
            if isinstance(cell.value, str) and cell.value.startswith("=")}


# --- 1. shared formulas whose master lies in a computed column -----------------------------

GRADE, LENGTH, NOTE = (len(CUSTOMER_HEADER) + i for i in range(3))      # 0-based: Q, R, S


def letters(index: int) -> str:
    return openpyxl.utils.get_column_letter(index + 1)


def shared_formula_register(path: Path) -> Path:
    """等级 (Q) holds LEN(B2), filled across into the staff's 名称长度 (R) and down three rows:
    one shared formula, its master Q2 in the computed column."""
    build_shop(path, ["等级", "名称长度", "备注2"],
               lambda r, row: [f"=LEN(B{r})", f"=LEN(C{r})", "staff"])
    q, s_ = letters(GRADE), letters(LENGTH)

    def share(parts):
        xml = parts[SHEET].decode()
        for r in (2, 3, 4):
            for column in (q, s_):
                ref = f"{column}{r}"
                shape = (f'<f t="shared" ref="{q}2:{s_}4" si="0">LEN(B2)</f>' if ref == f"{q}2"
                         else '<f t="shared" si="0"/>')
                xml, count = re.subn(rf'(<c r="{ref}"[^>]*>)<f>[^<]*</f>', rf"\g<1>{shape}", xml)
                assert count == 1, ref
        parts[SHEET] = xml.encode()
    edit_parts(path, share)
    return path


def test_a_shared_formula_with_its_master_in_a_computed_column_is_carried_over(tmp_path):
    register = shared_formula_register(tmp_path / "台账.xlsx")
    before = formulas(register)
    assert before[f"{letters(LENGTH)}3"] == "=LEN(C3)"               # openpyxl resolves the child
    assert run(tmp_path, register) == 0
    assert facts(tmp_path)["writeback"]["status"] == "written"
    after = formulas(register)
    staff = {ref: f for ref, f in before.items() if not ref.startswith(letters(GRADE))}
    assert {ref: after.get(ref) for ref in staff} == staff            # every staff formula kept
    sheet = zip_parts(register.read_bytes())[SHEET].decode()
    assert 'si="0"' not in sheet                                     # no child left without a master
    grades = {row[0]: row[GRADE] for row in openpyxl.load_workbook(register)["客户"].iter_rows(
        min_row=2, values_only=True)}
    assert grades == {"C1": "A", "C2": "E", "C3": "D"}
    assert run(tmp_path, register) == 0                              # the next night: nothing to do
    assert facts(tmp_path)["writeback"]["status"] == "unchanged"


def test_a_child_left_without_its_master_fails_the_check(tmp_path, monkeypatch):
    """Without the carrying over (the old write-back), the check after writing must notice."""
    register = shared_formula_register(tmp_path / "台账.xlsx")
    original = register.read_bytes()
    monkeypatch.setattr(FormulaCarrier, "carry", lambda self, row: None)
    assert run(tmp_path, register) == 0
    wb = facts(tmp_path)["writeback"]
    assert (wb["status"], wb["reason_code"]) == ("refused", "verify_failed")
    assert f"{letters(LENGTH)}2" in wb["reason"]
    assert register.read_bytes() == original


@pytest.fixture(scope="module")
def three_formula_columns(tmp_path_factory) -> bytes:
    """等级 (Q, computed), 名称长度 (R) and 备注2 (S) hold a plain formula in rows 2-4."""
    path = tmp_path_factory.mktemp("shared") / "台账.xlsx"
    return build_shop(path, ["等级", "名称长度", "备注2"],
                      lambda r, row: [f"=LEN(B{r})", f"=LEN(C{r})", f"=LEN(D{r})"]).read_bytes()


def share_rectangle(data: bytes, columns: range, rows: range, text: str) -> bytes:
    """The cells of the rectangle become one shared formula (master top left)."""
    parts = zip_parts(data)
    xml = parts[SHEET].decode()
    ref = f"{letters(columns[0])}{rows[0]}:{letters(columns[-1])}{rows[-1]}"
    for r in rows:
        for c in columns:
            here = f"{letters(c)}{r}"
            shape = (f'<f t="shared" ref="{ref}" si="3">{escape(text)}</f>' if (c, r) == (columns[0], rows[0])
                     else '<f t="shared" si="3"/>')
            xml, count = re.subn(rf'(<c r="{here}"[^>]*>)<f>[^<]*</f>', lambda m: m.group(1) + shape, xml)
            assert count == 1
    parts[SHEET] = xml.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return out.getvalue()


def staff_formulas(data: bytes) -> dict[str, str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))["客户"]
    return {cell.coordinate: cell.value for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str) and cell.value.startswith("=") and cell.column != GRADE + 1}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first_column=st.integers(GRADE, NOTE), width=st.integers(1, 3), first_row=st.integers(2, 4),
       height=st.integers(1, 3),
       text=st.sampled_from(["LEN(B2)", "B2&$A$1", "SUM($B2:B$3)", 'IF(A2="",0,1)', "COUNTA(Sheet2!B:B)+R1C1",
                             "'业务员'!A2&Q2"]))
def test_any_shared_formula_over_computed_and_staff_columns_keeps_every_staff_formula(
        three_formula_columns, first_column, width, first_row, height, text):
    columns = range(first_column, min(first_column + width, NOTE + 1))
    rows = range(first_row, min(first_row + height, 5))
    before = share_rectangle(three_formula_columns, columns, rows, text)
    update = writeback.build_updated(before, "客户", computed_columns())
    assert writeback.staff_difference(before, update.data, "客户", update) is None
    assert staff_formulas(update.data) == staff_formulas(before)
    sheet = zip_parts(update.data)[SHEET].decode()
    children, masters = sheet.count('t="shared" si="3"/>'), sheet.count('si="3">')
    assert masters == 1 or children == 0                        # no child without its master


def test_a_shared_formula_whose_shift_cannot_be_worked_out_is_refused_with_its_cell(tmp_path, three_formula_columns):
    """XFD2 shifted one column right leaves the sheet: rather than guess, refuse and say where."""
    register = tmp_path / "台账.xlsx"
    register.write_bytes(share_rectangle(three_formula_columns, range(GRADE, LENGTH + 1), range(2, 3), "XFD2+1"))
    before = register.read_bytes()
    result = writer_run(register)
    assert (result.status, result.reason_code) == ("refused", "shared_formula")
    assert f"{letters(LENGTH)}2" in result.reason and register.read_bytes() == before


def test_an_array_formula_reaching_from_a_computed_column_into_staff_cells_is_refused(tmp_path):
    register = build_shop(tmp_path / "台账.xlsx", ["等级", "名称长度"],
                          lambda r, row: [f"=LEN(B{r})", 0])
    q, r_ = letters(GRADE), letters(LENGTH)
    edit_parts(register, lambda parts: parts.__setitem__(SHEET, parts[SHEET].replace(
        f'<c r="{q}2"><f>LEN(B2)</f>'.encode(), f'<c r="{q}2"><f t="array" ref="{q}2:{r_}2">LEN(B2:C2)</f>'.encode())))
    original = register.read_bytes()
    assert run(tmp_path, register) == 0
    wb = facts(tmp_path)["writeback"]
    assert (wb["status"], wb["reason_code"]) == ("refused", "array_formula")
    assert f"{q}2:{r_}2" in wb["reason"] and register.read_bytes() == original


def test_an_array_formula_in_staff_cells_past_the_last_header_does_not_refuse(tmp_path):
    """Row 1 ends at 备注; an array formula of the staff's sits right of it in row 2.  The first
    guess of where new headers go overlaps it; the real columns go after it, and it stays."""
    register = build_shop(tmp_path / "台账.xlsx", (), lambda r, row: [f"=LEN(B{r})", 0])
    q, r_ = letters(GRADE), letters(LENGTH)
    edit_parts(register, lambda parts: parts.__setitem__(SHEET, parts[SHEET].replace(
        f'<c r="{q}2"><f>LEN(B2)</f>'.encode(), f'<c r="{q}2"><f t="array" ref="{q}2:{r_}2">LEN(B2:C2)</f>'.encode())))
    assert run(tmp_path, register) == 0
    assert facts(tmp_path)["writeback"]["status"] == "written"
    headers = [c.value for c in openpyxl.load_workbook(register)["客户"][1]]
    assert headers.index("等级") == NOTE + 0 and f'ref="{q}2:{r_}2"' in zip_parts(
        register.read_bytes())[SHEET].decode()


# --- 2. the shared file: a symbolic link, its mode and owner --------------------------------

@pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="POSIX links")
def test_a_register_behind_a_link_is_updated_at_its_target_with_mode_and_owner_kept(tmp_path):
    share, mount = tmp_path / "share", tmp_path / "mnt"
    share.mkdir()
    mount.mkdir()
    target = build_shop(share / "客户台账.xlsx")
    os.chmod(target, 0o664)
    can_chown = os.geteuid() == 0
    if can_chown:
        os.chown(target, 1234, 1234)
    link = mount / "客户台账.xlsx"
    link.symlink_to(target)
    original = target.read_bytes()
    assert run(tmp_path, link) == 0
    assert facts(tmp_path)["writeback"]["status"] == "written"
    assert link.is_symlink() and os.readlink(link) == str(target)      # the link stays a link
    assert target.read_bytes() != original                             # the shared file is updated
    headers = [c.value for c in openpyxl.load_workbook(link)["客户"][1]]
    assert "等级" in headers
    info = os.stat(target)
    assert stat.S_IMODE(info.st_mode) == 0o664
    if can_chown:
        assert (info.st_uid, info.st_gid) == (1234, 1234)
    # No temporary left; the sidecar (run lock and sent-ledger) lives beside the real file.
    assert sorted(p.name for p in share.iterdir()) == [".客户台账.pipeline", "客户台账.xlsx"]
    assert sorted(p.name for p in mount.iterdir()) == ["客户台账.xlsx"]
    [backup] = backups_of(link, tmp_path / "out" / "backups")
    assert backup.read_bytes() == original


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_lock_file_next_to_the_links_target_refuses(tmp_path):
    share, mount = tmp_path / "share", tmp_path / "mnt"
    share.mkdir()
    mount.mkdir()
    target = build_shop(share / "客户台账.xlsx")
    (mount / "客户台账.xlsx").symlink_to(target)
    (share / ".~lock.客户台账.xlsx#").write_text("王强,wq,PC1,26.11.2026 08:00,file;", encoding="utf-8")
    assert run(tmp_path, mount / "客户台账.xlsx") == 0
    assert facts(tmp_path)["writeback"]["reason_code"] == "locked"


# --- 3. a formatted empty header cell keeps its look ---------------------------------------

def test_a_header_written_into_a_formatted_empty_cell_keeps_the_staffs_style(tmp_path):
    first_new = len(CUSTOMER_HEADER)                # 等级 goes into the first free column
    register = build_shop(tmp_path / "台账.xlsx", header_format={"bold": True, "bg_color": "#D9E1F2"},
                          blank_header_cells=[(first_new, {"border": 2, "border_color": "#FF0000"})])
    cell = openpyxl.load_workbook(register)["客户"].cell(1, first_new + 1)
    assert cell.value is None and cell.border.left.style == "medium"
    assert run(tmp_path, register) == 0
    sheet = openpyxl.load_workbook(register)["客户"]
    written = sheet.cell(1, first_new + 1)
    assert written.value == "等级"
    assert written.border.left.style == "medium" and written.border.left.color.rgb == "FFFF0000"
    assert sheet.cell(1, first_new + 2).font.bold              # a header added in a new cell: like the others


# --- 4. workbooks shaped otherwise: Strict OOXML, macro sheets, a moved workbook part ------

TRANSITIONAL = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main":
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
}


def as_strict(parts: dict[str, bytes]) -> None:
    """Rewrite a Transitional package as ISO 29500 Strict (namespaces and relationship types)."""
    for name, data in parts.items():
        for old, new in TRANSITIONAL.items():
            data = data.replace(old, new)
        if name == "xl/workbook.xml":
            data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
        parts[name] = data


def writer_run(register: Path, signed: str = "refuse"):
    return update_register(register, "客户", computed_columns(), read_snapshot=snapshot(register),
                           backup_dir=register.parent / "backups", keep_backups=5, stamp=DAY,
                           signed=signed)


def check_only_owned_parts_changed(before: bytes, after: bytes, owned=(SHEET, "xl/styles.xml")) -> None:
    old, new = zip_parts(before), zip_parts(after)
    assert list(old) == list(new)
    assert {name for name in old if old[name] != new[name]} <= set(owned)


def test_a_strict_workbook_is_written_in_its_own_namespaces(tmp_path):
    register = build_shop(tmp_path / "台账.xlsx")
    edit_parts(register, as_strict)
    before = register.read_bytes()
    result = writer_run(register)
    assert (result.status, result.reason_code) == ("written", "")
    after = register.read_bytes()
    check_only_owned_parts_changed(before, after)
    sheet = zip_parts(after)[SHEET]
    assert b"schemas.openxmlformats.org/spreadsheetml" not in sheet
    assert b"schemas.openxmlformats.org/officeDocument" not in sheet
    strict = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"
    root = openpyxl.xml.functions.fromstring(sheet)
    header = [c.get("r") for c in root.iter(strict + "c") if c.get("t") == "inlineStr"]
    assert f"{letters(GRADE)}1" in header                            # 等级 added in Strict's namespace
    assert b"schemas.openxmlformats.org/spreadsheetml" not in zip_parts(after)["xl/styles.xml"]
    assert writer_run(register).status == "unchanged"                # byte-identical re-run


def test_a_part_mixing_strict_and_transitional_is_refused(tmp_path):
    register = build_shop(tmp_path / "台账.xlsx")

    def mix(parts):
        as_strict(parts)
        parts[SHEET] = parts[SHEET].replace(
            b"</worksheet>", b'<extLst><ext uri="x" xmlns:t="http://schemas.openxmlformats.org/'
                             b'spreadsheetml/2006/main"/></extLst></worksheet>')
    edit_parts(register, mix)
    before = register.read_bytes()
    result = writer_run(register)
    assert (result.status, result.reason_code) == ("refused", "mixed_namespaces")
    assert register.read_bytes() == before


MACRO_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
               b'<row r="1"><c r="A1"><f>RETURN()</f></c></row></sheetData></xm:macrosheet>')


def with_macro_sheet_and_a_sheet_without_id(parts: dict[str, bytes]) -> None:
    parts["xl/macrosheets/sheet1.xml"] = MACRO_SHEET
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/'
                     b'vnd.ms-excel.macrosheet+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/'
                             b'2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/>'
                             b"</Relationships>")
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'<sheet name="Macro1" sheetId="90" r:id="rId99"/>'
                      b'<sheet name="\xe7\xa9\xba" sheetId="91" r:id=""/></sheets>')


def moved_workbook_part(parts: dict[str, bytes]) -> None:
    """The main part at book/main.xml (with its sheets beside it), as some tools save it."""
    renamed = {}
    for name, data in parts.items():
        new_name = {"xl/workbook.xml": "xl/book/main.xml",
                    "xl/_rels/workbook.xml.rels": "xl/book/_rels/main.xml.rels"}.get(name, name)
        if name == "xl/_rels/workbook.xml.rels":
            data = re.sub(rb'Target="(?!/)', b'Target="../', data)
        if name in ("_rels/.rels", "[Content_Types].xml"):
            data = data.replace(b"xl/workbook.xml", b"xl/book/main.xml")
        renamed[new_name] = data
    parts.clear()
    parts.update(renamed)


@pytest.mark.parametrize("shape", [with_macro_sheet_and_a_sheet_without_id, moved_workbook_part])
def test_a_macro_sheet_a_sheet_without_id_or_a_moved_workbook_part_does_not_stop_the_write(tmp_path, shape):
    register = build_shop(tmp_path / "台账.xlsx")
    edit_parts(register, shape)
    before = register.read_bytes()
    result = writer_run(register)
    assert (result.status, result.reason_code) == ("written", "")
    check_only_owned_parts_changed(before, register.read_bytes())
    assert b"inlineStr" in zip_parts(register.read_bytes())[SHEET]
    assert writer_run(register).status == "unchanged"


# --- 5. a digitally signed workbook ----------------------------------------------------------

ORIGIN = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/origin"


def sign(parts: dict[str, bytes]) -> None:
    """The parts Excel adds when a workbook is signed (the signature itself need not verify)."""
    parts["_xmlsignatures/origin.sigs"] = b""
    parts["_xmlsignatures/sig1.xml"] = (b'<?xml version="1.0" encoding="UTF-8"?>\r\n<Signature '
                                        b'xmlns="http://www.w3.org/2000/09/xmldsig#" Id="idPackageSignature">'
                                        b'<SignedInfo/><SignatureValue>AAAA</SignatureValue></Signature>')
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rIdSig" Type="{ORIGIN}" '
                             f'Target="_xmlsignatures/origin.sigs"/></Relationships>'.encode())


def test_a_signed_register_is_refused_with_the_reason_by_default(tmp_path, capsys):
    register = build_shop(tmp_path / "台账.xlsx")
    edit_parts(register, sign)
    before = register.read_bytes()
    assert run(tmp_path, register) == 0
    wb = facts(tmp_path)["writeback"]
    assert (wb["status"], wb["reason_code"]) == ("refused", "signed")
    assert "数字签名" in wb["reason"] and 'signed = "write"' in wb["reason"]
    assert register.read_bytes() == before
    assert "数字签名" in capsys.readouterr().out


def test_a_signed_register_is_written_when_the_shop_says_so_and_the_run_says_the_signature_is_gone(tmp_path, capsys):
    register = build_shop(tmp_path / "台账.xlsx")
    edit_parts(register, sign)
    before = register.read_bytes()
    assert run(tmp_path, register, config='signed = "write"\n') == 0
    wb = facts(tmp_path)["writeback"]
    assert wb["status"] == "written" and "签名" in wb["reason"] and "失效" in wb["reason"]
    assert "签名因此失效" in capsys.readouterr().out
    old, new = zip_parts(before), zip_parts(register.read_bytes())
    assert all(new[name] == old[name] for name in old if name.startswith("_xmlsignatures/"))


def test_the_signed_key_takes_only_refuse_or_write(tmp_path, capsys):
    register = build_shop(tmp_path / "台账.xlsx")
    assert run(tmp_path, register, config='signed = "yes"\n') == 2
    assert "[register] signed" in capsys.readouterr().err


# --- 6. backups: a temporary name, renamed; folders flushed ------------------------------

def test_a_run_killed_while_copying_the_backup_leaves_no_backup_under_its_name(tmp_path):
    register = build_shop(tmp_path / "台账.xlsx")
    backups = tmp_path / "backups"
    script = f"""
import os, sys
sys.path[:0] = [{str(REPO)!r}]
from pathlib import Path
from pipeline.writeback.update import snapshot, update_register
from tests.xlsx_fixtures import computed_columns
path = Path({str(register)!r})
read = snapshot(path)
os.fsync = lambda fd: os._exit(17)          # the machine dies while the backup is being written
update_register(path, "客户", computed_columns(), read_snapshot=read,
                backup_dir=Path({str(backups)!r}), keep_backups=5, stamp={DAY!r})
"""
    original = register.read_bytes()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 17, done.stderr
    assert register.read_bytes() == original
    assert backups_of(register, backups) == []               # nothing under a backup's name
    result = writer_run(register)                            # the next run just works
    assert result.status == "written" and result.backup.read_bytes() == original
    assert sorted(p.name for p in backups.iterdir()) == [result.backup.name]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open folders through /proc")
def test_after_each_rename_the_folder_is_flushed(tmp_path, monkeypatch):
    register = build_shop(tmp_path / "台账.xlsx")
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    result = writer_run(register)
    assert result.status == "written"
    assert synced == [str(tmp_path / "backups"), str(tmp_path)]
