"""A register without a follow-up sheet gets one (issue 13): headers in the register's
language, the top row frozen; workbook.xml, its relationships and [Content_Types].xml
gain one entry each, every other part stays as it was.
"""
from __future__ import annotations


from lxml import etree

from pipeline.writeback.package import (
    NS_DOC_REL,
    NS_MAIN,
    NS_PKG_REL,
    M,
    Package,
    column_letters,
    serialize_xml,
)
from pipeline.writeback.styles import StyleBook

from pipeline.writeback.log_rows import Appended, LogAppend

_C, _ROW, _V, _IS = M + "c", M + "row", M + "v", M + "is"
_VALUE_TAGS = {_V, M + "f", _IS}
SHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
SHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

def into_new_sheet(package: Package, log: LogAppend, styles: StyleBook, date1904: bool,
                    replaced: dict[str, bytes], added: dict[str, bytes], write_rows) -> Appended:
    """``write_rows``: the streaming append (writeback.append), run on the new empty sheet."""
    workbook = next((t for k, t in package.relationships("").values() if k.endswith("/officeDocument")),
                    "xl/workbook.xml")
    folder = workbook.rpartition("/")[0]
    names = {info.filename for info in package.infos}
    number = 1
    while f"{folder}/worksheets/sheet{number}.xml" in names:
        number += 1
    part = f"{folder}/worksheets/sheet{number}.xml"
    headers = {i + 1: h for i, (_, h) in enumerate(log.headers)}
    skeleton = _empty_sheet(headers)
    xml, appended, _ = write_rows(skeleton, part, log, styles, date1904,
                               lambda wanted: {}, {})
    added[part] = xml
    rels_part = f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels"
    rels = package.xml(rels_part)
    taken = {r.get("Id") for r in rels}
    rel_id = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
    etree.SubElement(rels, "{%s}Relationship" % NS_PKG_REL, Id=rel_id, Type=SHEET_TYPE,
                     Target=f"worksheets/sheet{number}.xml")
    replaced[rels_part] = serialize_xml(rels)
    book = package.xml(workbook)
    sheets = book.find(M + "sheets")
    sheet_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
    etree.SubElement(sheets, M + "sheet", {"name": log.sheet, "sheetId": str(sheet_id),
                                           "{%s}id" % NS_DOC_REL: rel_id})
    replaced[workbook] = serialize_xml(book)
    types = package.xml("[Content_Types].xml")
    ns = types.tag.partition("}")[0] + "}"
    etree.SubElement(types, ns + "Override", PartName=f"/{part}", ContentType=SHEET_CONTENT)
    replaced["[Content_Types].xml"] = serialize_xml(types)
    return Appended(part, None, appended.first_row, appended.cells, appended.header_cells, (part,))


def _empty_sheet(headers: dict[int, str]) -> bytes:
    """A worksheet with the header row (bold is not ours to invent: plain text), top row frozen."""
    root = etree.Element(M + "worksheet", nsmap={None: NS_MAIN, "r": NS_DOC_REL})
    etree.SubElement(root, M + "dimension", ref="A1")
    views = etree.SubElement(etree.SubElement(root, M + "sheetViews"), M + "sheetView", workbookViewId="0")
    etree.SubElement(views, M + "pane", ySplit="1", topLeftCell="A2", activePane="bottomLeft", state="frozen")
    etree.SubElement(root, M + "sheetFormatPr", defaultRowHeight="15")
    cols = etree.SubElement(root, M + "cols")
    for index in headers:
        etree.SubElement(cols, M + "col", min=str(index), max=str(index), width="12", customWidth="1")
    data = etree.SubElement(root, M + "sheetData")
    row = etree.SubElement(data, _ROW, r="1")
    for index, header in headers.items():
        cell = etree.SubElement(row, _C, r=f"{column_letters(index)}1", t="inlineStr")
        etree.SubElement(etree.SubElement(cell, _IS), M + "t").text = header
    etree.SubElement(root, M + "pageMargins", left="0.7", right="0.7", top="0.75", bottom="0.75",
                     header="0.3", footer="0.3")
    return serialize_xml(root)


