"""Walk a worksheet part row by row, so a 50,000-customer sheet never sits in memory whole.

The customer sheet is parsed with iterparse: each <row> is handed over as soon as it
is complete and freed (or written out) once handled, so memory stays flat however
long the register grows.  Everything around <sheetData> (dimension, cols,
conditional formats, tables, extLst...) is small and stays as a parsed skeleton the
caller may edit; the written rows are spliced back into its serialisation, giving the
same bytes as serialising the whole tree at once.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Protocol

from lxml import etree

from pipeline.writeback.package import (
    SAFE_PARSING,
    XML_DECLARATION,
    M,
    PackageError,
    column_letters,
    column_number,
    refuse_doctype,
)

_ROW, _C, _SHEET_DATA = M + "row", M + "c", M + "sheetData"
_BATCH = 500                        # rows written out at a time
_MARK = "pipeline-customer-rows"    # where the written rows go back into the skeleton

_COLUMNS: dict[str, int] = {}


def column_of(cell: etree._Element) -> int:
    """Column number of a cell from its r attribute (hot path: cached by letters)."""
    ref = cell.get("r")
    if ref is None:
        raise PackageError("bad_xml", "cell without a reference")
    letters = ref.rstrip("0123456789$").lstrip("$")
    number = _COLUMNS.get(letters)
    if number is None:
        number = _COLUMNS[letters] = column_number(letters)
    return number


def number_row(row: etree._Element, previous: int) -> int:
    """Give the row and its cells an explicit r when missing (the schema lets writers omit
    them); returns the row's number.  Writers that omit r omit it throughout, so checking
    the row's ends is enough; a cell missing r elsewhere is caught by column_of."""
    mark = row.get("r")
    if mark is not None and (not len(row) or (row[0].get("r") is not None
                                              and row[-1].get("r") is not None)):
        return int(mark)
    number = int(mark or previous + 1)
    row.set("r", str(number))
    column = 0
    for cell in row.iterchildren(_C):
        column = column_of(cell) if cell.get("r") else column + 1
        cell.set("r", f"{column_letters(column)}{number}")
    return number


def iter_rows(xml: bytes, part: str) -> Iterator[etree._Element]:
    """Each numbered <row> of a sheet part in order; a row is freed when the next is asked for."""
    context = etree.iterparse(io.BytesIO(xml), events=("end",), tag=_ROW, **SAFE_PARSING)
    number, checked = 0, False
    try:
        for _, row in context:
            if not checked:
                refuse_doctype(row, part)
                checked = True
            number = _in_order(number_row(row, number), number, part)
            yield row
            row.clear()
            parent = row.getparent()
            while row.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as error:
        raise PackageError("bad_xml", f"{part}: {error}") from None


class RowHandler(Protocol):
    def start(self, root: etree._Element) -> None: ...
    def row(self, row: etree._Element, number: int) -> None: ...
    def end(self, sheet_data: etree._Element) -> None: ...


def rewrite_sheet(xml: bytes, part: str, handler: RowHandler) -> tuple[etree._Element, list]:
    """Stream the part through ``handler``; returns the skeleton and the written rows.

    ``handler.row`` may insert new rows before the row it is given (addprevious) and
    ``handler.end`` may append rows; those are written out too.  Pass the result to
    ``join_sheet`` once the skeleton is edited.
    """
    writer = _RowWriter()
    context = etree.iterparse(io.BytesIO(xml), events=("start", "end"),
                              tag=(_SHEET_DATA, _ROW), **SAFE_PARSING)
    number, seen = 0, 0
    try:
        for event, element in context:
            if element.tag == _ROW:
                if event == "end":
                    number = _in_order(number_row(element, number), number, part)
                    handler.row(element, number)
                    seen += 1
                    if seen % _BATCH == 0:
                        writer.write(list(element.itersiblings(preceding=True))[::-1])
            elif event == "start":
                refuse_doctype(element, part)
                handler.start(element.getparent())
                writer.open(element)
            else:
                handler.end(element)
                writer.write(list(element))
                writer.close(element)
        root = context.root
    except etree.XMLSyntaxError as error:
        raise PackageError("bad_xml", f"{part}: {error}") from None
    if writer.sheet_data is None:
        raise PackageError("bad_xml", "worksheet without sheetData")
    return root, writer.chunks


def join_sheet(root: etree._Element, chunks: list) -> bytes:
    """The whole part: the edited skeleton with the written rows back in <sheetData>."""
    head = XML_DECLARATION + etree.tostring(root, encoding="UTF-8")
    if not chunks:
        return head
    mark = f"<!--{_MARK}-->".encode()
    if head.count(mark) != 1:
        raise PackageError("bad_xml", "sheet already holds the row marker")
    before, _, after = head.partition(mark)
    return b"".join([before, *chunks, after])


class _RowWriter:
    """Serialises finished rows in a scratch <sheetData> of the same document, so each
    row's bytes are what serialising the whole sheet would give (and moving rows there
    needs no namespace reconciliation)."""

    def __init__(self):
        self.sheet_data: etree._Element | None = None
        self.chunks: list[bytes] = []

    def open(self, sheet_data: etree._Element) -> None:
        self.sheet_data = sheet_data

    def write(self, rows: list) -> None:
        """Write out ``rows`` (complete, in order) and free them; empties the list."""
        if not rows:
            return
        root = self.sheet_data.getparent()
        # Appended after whatever the parser has built so far, removed before it goes on.
        scratch = etree.SubElement(root, self.sheet_data.tag)
        if not self.chunks:
            scratch.text, self.sheet_data.text = self.sheet_data.text, None
        for row in rows:
            scratch.append(row)
        # lxml frees a removed subtree at once only if no Python object refers into it.
        rows.clear()
        del row
        data = etree.tostring(scratch, encoding="UTF-8")
        self.chunks.append(data[data.index(b">") + 1:data.rindex(b"</")])
        scratch.clear()
        root.remove(scratch)

    def close(self, sheet_data: etree._Element) -> None:
        if self.chunks:
            sheet_data.append(etree.Comment(_MARK))

def _in_order(number: int, previous: int, part: str) -> int:
    if number <= previous:
        raise PackageError("bad_xml", f"{part}: row {number} out of order")
    return number
