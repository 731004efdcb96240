"""Opt-in check: the write-back on a folder of real-world .xlsx files (issue 11 §2).

    python benchmarks/realworld_check.py FOLDER [--first-sheet-only | --added-only]

Public test files (Apache POI, SheetJS, ClosedXML, XlsxWriter, calamine...) are saved by
many programs; no third-party file is shipped here, point it at a folder you filled.
Every file is tried twice:

- added: a 客户 sheet is added at the zip level (a worksheet part, its relationship, a
  <sheet> entry, a content type), as if the shop kept its register in that workbook;
- first: the file's own first worksheet is the customer sheet.

- masters: where the file has shared formulas, each column holding a shared formula's
  master (under a text header in row 1) is made a computed column, so its formulas are
  overwritten; every formula outside it must read the same (openpyxl) afterwards.

Each time the computed columns are written (pipeline.writeback.update_register), every
part but the ones the write-back owns (the customer sheet, styles, the sheet's tables) must
be byte-identical, the values must read back (python-calamine), and a second run must
leave the file byte-identical.  One line per file and try, then the totals.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import tempfile
import traceback
import zipfile
from collections import Counter
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.writeback.package import (  # noqa: E402
    NS_DOC_REL, NS_PKG_REL, Package, PackageError, column_number, locate)
from pipeline.writeback.update import OutColumn, snapshot, update_register  # noqa: E402

CUSTOMER_SHEET = "客户"
_NEW_SHEET = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet xmlns="{main}">'
              '<sheetData>{rows}</sheetData></worksheet>')


def columns(rows: range) -> list[OutColumn]:
    grades = "ABCDE"
    return [OutColumn("等级", "text", {r: grades[r % 5] for r in rows}),
            OutColumn("下次跟进", "date", {r: dt.date(2026, 11, 1) + dt.timedelta(days=r) for r in rows}),
            OutColumn("逾期天数", "int", {r: r * 3 for r in rows}),
            OutColumn("档案完整度", "percent", {r: (r % 10) / 10 for r in rows}),
            OutColumn("欠款", "money", {r: r * 100.5 for r in rows if r % 2})]


def parts_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def workbook_part(package: Package) -> str:
    return next((t for k, t in package.relationships("").values() if k.endswith("/officeDocument")),
                "xl/workbook.xml")


def sheet_names(package: Package) -> list[str]:
    root = package.xml(workbook_part(package))
    return [s.get("name") for s in root.iter() if etree.QName(s).localname == "sheet"]


def with_customer_sheet(data: bytes) -> bytes:
    """The package with a small 客户 sheet added at the zip level."""
    package = Package(data)
    book = workbook_part(package)
    folder, name = book.rsplit("/", 1) if "/" in book else ("", book)
    rels_name = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    root = etree.fromstring(package.read(book))
    main = etree.QName(root).namespace
    sheets = next(e for e in root if etree.QName(e).localname == "sheets")
    ids = [int(s.get("sheetId", "0")) for s in sheets]
    entry = etree.SubElement(sheets, f"{{{main}}}sheet", name=CUSTOMER_SHEET,
                             sheetId=str(max(ids, default=0) + 1))
    relationships_ns = NS_DOC_REL if "openxmlformats" in main else \
        "http://purl.oclc.org/ooxml/officeDocument/relationships"
    entry.set(f"{{{relationships_ns}}}id", "rIdPipelineCustomers")
    rels = etree.fromstring(package.read(rels_name))
    kind = next(r.get("Type") for r in rels if r.get("Type", "").endswith("/worksheet"))
    etree.SubElement(rels, f"{{{NS_PKG_REL}}}Relationship", Id="rIdPipelineCustomers", Type=kind,
                     Target="worksheets/pipelineCustomers.xml")
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{a}</t></is></c>'
                   f'<c r="B{r}" t="inlineStr"><is><t>{b}</t></is></c></row>'
                   for r, (a, b) in enumerate([("客户编号", "客户名称"), ("C1", "甲"), ("C2", "乙"),
                                               ("C3", "丙")], start=1))
    types = etree.fromstring(package.read("[Content_Types].xml"))
    types_ns = etree.QName(types).namespace
    sheet_type = next(o.get("ContentType") for o in types
                      if "worksheet" in (o.get("ContentType") or ""))
    sheet_part = f"{folder}/worksheets/pipelineCustomers.xml" if folder else "worksheets/pipelineCustomers.xml"
    etree.SubElement(types, f"{{{types_ns}}}Override", PartName="/" + sheet_part, ContentType=sheet_type)
    replaced = {book: etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True),
                rels_name: etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True),
                "[Content_Types].xml": etree.tostring(types, xml_declaration=True, encoding="UTF-8",
                                                      standalone=True)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part, content in parts_of(data):
            z.writestr(part, replaced.get(part, content))
        z.writestr(sheet_part, _NEW_SHEET.format(main=main, rows=rows))
    return out.getvalue()


def _only_filter_name_grew(name: str, before: bytes, after: bytes, package: Package) -> bool:
    """workbook.xml may differ in one place: the customer sheet's hidden _xlnm._FilterDatabase
    name, grown with its AutoFilter over the computed columns (writeback.view)."""
    if name != workbook_part(package):
        return False
    pattern = re.compile(rb'(<(?:\w+:)?definedName[^>]*_xlnm\._FilterDatabase[^>]*>)[^<]*(<)')
    return pattern.sub(rb"\1\2", before) == pattern.sub(rb"\1\2", after)


def try_one(data: bytes, sheet: str, rows: range, folder: Path) -> str:
    """'ok', or what went wrong."""
    path = folder / "register.xlsx"
    path.write_bytes(data)
    package = Package(data)
    owned = {locate(package, sheet).sheet, *locate(package, sheet).tables}
    owned |= {t for k, t in package.relationships(workbook_part(package)).values() if k.endswith("/styles")}
    result = update_register(path, sheet, columns(rows), read_snapshot=snapshot(path),
                             backup_dir=folder / "backups", keep_backups=1, stamp="2026-11-23")
    if result.status != "written":
        return f"{result.status}:{result.reason_code}"
    written = path.read_bytes()
    before, after = parts_of(data), parts_of(written)
    if [n for n, _ in before] != [n for n, _ in after]:
        return "parts-changed"
    changed = [n for (n, a), (_, b) in zip(before, after) if a != b and n not in owned
               and not _only_filter_name_grew(n, a, b, package)]
    if changed:
        return f"changed:{changed[0]}"
    if not _reads_back(written, sheet, rows):
        return "values-not-read-back"
    again = update_register(path, sheet, columns(rows), read_snapshot=snapshot(path),
                            backup_dir=folder / "backups", keep_backups=1, stamp="2026-11-23")
    if again.status != "unchanged" or path.read_bytes() != written:
        return f"rerun:{again.status}:{again.reason_code}"
    return "ok"


def _reads_back(data: bytes, sheet: str, rows: range) -> bool:
    try:
        from python_calamine import CalamineWorkbook
        values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet).to_python(
            skip_empty_area=False)
    except Exception:                       # the reader's limits are not the writer's
        return True
    header = [str(v) for v in values[0]] if values else []
    if "等级" not in header:
        return False
    column = header.index("等级")
    return all(values[r - 1][column] == "ABCDE"[r % 5] for r in rows if r - 1 < len(values))


def check(path: Path, tries: list[str]) -> dict[str, str]:
    outcome = {}
    data = path.read_bytes()
    for kind in tries:
        with tempfile.TemporaryDirectory() as scratch:
            try:
                if kind == "masters":
                    outcome[kind] = try_masters(data, Path(scratch))
                elif kind == "added":
                    outcome[kind] = try_one(with_customer_sheet(data), CUSTOMER_SHEET, range(2, 5),
                                            Path(scratch))
                else:
                    package = Package(data)
                    names = [n for n in sheet_names(package) if _is_worksheet(package, n)]
                    if not names:
                        outcome[kind] = "skip:no-worksheet"
                        continue
                    outcome[kind] = try_one(data, names[0], range(2, 40), Path(scratch))
            except PackageError as error:
                outcome[kind] = f"cannot-prepare:{error.code}"
            except Exception as error:       # a crash is a finding: name it
                outcome[kind] = f"CRASH:{type(error).__name__}:{error}"
                traceback.print_exc(limit=3)
    return outcome


def try_masters(data: bytes, folder: Path) -> str:
    """Overwrite the columns holding shared-formula masters; the other formulas must stay."""
    import openpyxl
    from python_calamine import CalamineWorkbook
    package = Package(data)
    for name in sheet_names(package):
        if not _is_worksheet(package, name):
            continue
        sheet = package.read(locate(package, name).sheet)
        masters = {m.decode() for m in re.findall(rb'<c r="([A-Z]+)\d+"[^>]*>\s*<f t="shared" ref=', sheet)}
        if not masters:
            continue
        try:
            header = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name).to_python(
                skip_empty_area=False)[0]
        except Exception:
            return "skip:unreadable"
        targets = {}
        for letters in sorted(masters):
            index = column_number(letters) - 1
            text = header[index] if index < len(header) else None
            if isinstance(text, str) and text.strip() and text.strip().casefold() not in targets:
                targets[text.strip().casefold()] = (letters, text.strip())
        if not targets:
            continue
        path = folder / "register.xlsx"
        path.write_bytes(data)
        rows = range(2, 30)
        chosen = list(targets.values())[:3]
        out = [OutColumn(text, "text", {r: f"v{r}" for r in rows}) for _, text in chosen]
        skip = {letters for letters, _ in chosen}

        def formulas_outside(blob: bytes) -> dict:
            book = openpyxl.load_workbook(io.BytesIO(blob))
            return {(ws.title, c.coordinate): c.value for ws in book.worksheets for row in ws.iter_rows()
                    for c in row if isinstance(c.value, str) and c.value.startswith("=")
                    and not (ws.title == name and c.column_letter in skip)}
        try:
            expected = formulas_outside(data)
        except Exception:
            return "skip:openpyxl-cannot-read"
        result = update_register(path, name, out, read_snapshot=snapshot(path),
                                 backup_dir=folder / "backups", keep_backups=1, stamp="2026-11-23")
        if result.status != "written":
            return f"{result.status}:{result.reason_code}:{result.reason[:80]}"
        written = path.read_bytes()
        if formulas_outside(written) != expected:
            return "FORMULAS-CHANGED"
        again = update_register(path, name, out, read_snapshot=snapshot(path),
                                backup_dir=folder / "backups", keep_backups=1, stamp="2026-11-23")
        if again.status != "unchanged" or path.read_bytes() != written:
            return f"rerun:{again.status}"
        return f"ok:{len(chosen)} column(s)"
    return "skip:no-shared-master"


def _is_worksheet(package: Package, name: str) -> bool:
    try:
        part = locate(package, name).sheet
    except PackageError:
        return False
    return "/worksheets/" in "/" + part


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--first-sheet-only", action="store_true")
    parser.add_argument("--added-only", action="store_true")
    parser.add_argument("--masters-only", action="store_true")
    args = parser.parse_args()
    tries = ["first"] if args.first_sheet_only else ["added"] if args.added_only else \
        ["masters"] if args.masters_only else ["added", "first", "masters"]
    totals: dict[str, Counter] = {kind: Counter() for kind in tries}
    for path in sorted(args.folder.glob("*.xlsx")):
        outcome = check(path, tries)
        print(path.name, " ".join(f"{k}={v}" for k, v in outcome.items()))
        for kind, result in outcome.items():
            totals[kind][result.split(":")[0]] += 1
    for kind, counter in totals.items():
        print(kind, dict(counter))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
