"""Appending to 跟进记录 without re-writing it (issue 13): the common case, and the fast one.

When the log's last row holds values, the new rows' XML goes right before
``</sheetData>``, a missing header (来源) goes into row 1, ``<dimension>`` grows, and
every other byte of the part stays as it was: a 500,000-row log is searched, not
parsed.  ``same_apart_from`` and ``check_splice`` are the verify step's half: the new
part is the old one with exactly these edits, and the edited rows read back as meant.
"""
from __future__ import annotations

import re

from lxml import etree

from pipeline.writeback.package import (
    NS_MAIN,
    M,
    PackageError,
    column_letters,
    column_number,
    split_ref,
)
from pipeline.writeback.sheet import header_row
from pipeline.writeback.stream import column_of
from pipeline.writeback.styles import StyleBook
from pipeline.writeback.view import grow_log_filter_bytes

from pipeline.writeback.log_rows import Appended, LogAppend, place, wanted_cells, RowWriter

_C, _ROW, _V, _IS = M + "c", M + "row", M + "v", M + "is"
_VALUE_TAGS = {_V, M + "f", _IS}

_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+[0-9]+)(?::([A-Z]+[0-9]+))?"\s*/>')


def splice_rows(xml: bytes, part: str, log: LogAppend, styles: StyleBook, date1904: bool, shared, tables):
    """The common case without re-writing the log: the sheet ends with a row holding values,
    so the new rows' XML goes right before </sheetData>, a missing header goes into row 1,
    and every other byte stays (a 500,000-row log is not re-written).  None when that
    does not hold (the streaming path then does it)."""
    end = xml.find(b"</sheetData>")
    start = xml.rfind(b"<row ", 0, end)
    if end < 0 or start < 0 or xml.count(b"</sheetData>") != 1 or xml.find(b"<sheetData", 0, start) < 0:
        return None
    for table in tables.values():
        if int(table.get("totalsRowCount", "0") or 0):
            raise PackageError("log_table_totals", table.get("name", ""))
    headers, _ = header_row(xml, part, shared)
    last_column = _last_column(xml)
    if last_column is None:
        return None
    places, header_added = place(log, headers, max(last_column, max(headers, default=0)))
    row = lone_row(xml[start:end])
    if row is None or not any(child.tag in _VALUE_TAGS for cell in row.iterchildren(_C) for child in cell):
        return None          # formatted empty rows below the data: the streaming path fills them
    first = int(row.get("r")) + 1
    if first == 2 and header_added:
        return None          # only a header row: nothing to gain
    styles_above = {column_of(c): c.get("s") for c in row.iterchildren(_C) if c.get("s")}
    wanted = wanted_cells(log, places, first)
    edits = []
    if header_added:
        head_start = xml.find(b"<row ")
        head_end = xml.find(b"</row>", head_start) + len(b"</row>")
        header = lone_row(xml[head_start:head_end])
        if header is None or header.get("r") != "1":
            return None
        RowWriter({}, {}, {}, styles, date1904).fill(header, 1, {c: ("text", h) for c, h in header_added},
                                                    header=True)
        edits.append((head_start, head_end, _rows_bytes([header])))
    writer = RowWriter(wanted, {}, styles_above, styles, date1904)
    rows = []
    for r in sorted(wanted):
        rows.append(etree.Element(_ROW, r=str(r)))
        writer.fill(rows[-1], r, wanted[r])
    edits.append((end, end, _rows_bytes(rows)))
    match = _DIMENSION.search(xml, 0, xml.find(b"<sheetData"))
    if match:
        top, bottom = match.group(1).decode(), (match.group(2) or match.group(1)).decode()
        column, row_number = split_ref(bottom)
        grown = f"{column_letters(max(column, max(places.values())))}{max(row_number, first + len(log.rows) - 1)}"
        edits.append((match.start(), match.end(), f'<dimension ref="{top}:{grown}"/>'.encode()))
    # A sheet filter over the whole log keeps covering it (LibreOffice filters only its range).
    grown_filter = grow_log_filter_bytes(xml, end, first, max(wanted), max(places.values()))
    if grown_filter:
        edits.append(grown_filter)
    edits.sort()
    cells = {(r, c): v for r, row_cells in wanted.items() for c, v in row_cells.items()}
    appended = Appended(part, xml, first, cells, frozenset((1, c) for c, _ in header_added), (), tuple(edits),
                        {c: h for c, h in header_added})
    return _apply(xml, edits), appended, header_added


_CELL_TAG = re.compile(rb"<c[\s>/]")
_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]{1,3})[0-9]+"')


def _last_column(xml: bytes) -> int | None:
    """The last column any cell is in, from the cells' references; None when some cell has none."""
    letters = set(_CELL_REF.findall(xml))
    if sum(1 for _ in _CELL_TAG.finditer(xml)) != sum(1 for _ in _CELL_REF.finditer(xml)):
        return None
    return max((column_number(c.decode()) for c in letters), default=0)


def lone_row(data: bytes):
    try:
        holder = etree.fromstring(b'<sheetData xmlns="%s">' % NS_MAIN.encode() + data + b"</sheetData>")
    except etree.XMLSyntaxError:
        return None
    if len(holder) != 1 or holder[0].tag != _ROW or holder[0].get("r") is None:
        return None
    return holder[0]


def _rows_bytes(rows) -> bytes:
    """Rows serialised as they sit inside the sheet's <sheetData> (main namespace as default)."""
    holder = etree.Element(M + "sheetData", nsmap={None: NS_MAIN})
    holder.extend(rows)
    data = etree.tostring(holder, encoding="UTF-8")
    return data[data.index(b">") + 1:data.rindex(b"</")]


def same_apart_from(new: bytes, original: bytes, edits) -> bool:
    """``new`` is ``original`` with ``edits`` applied (compared in place, no copies)."""
    new_view, old_view = memoryview(new), memoryview(original)
    at_new = at_old = 0
    for start, end, replacement in edits:
        length = start - at_old
        if new_view[at_new:at_new + length] != old_view[at_old:start]:
            return False
        at_new += length
        if new_view[at_new:at_new + len(replacement)] != replacement:
            return False
        at_new, at_old = at_new + len(replacement), end
    return new_view[at_new:] == old_view[at_old:]


def _apply(original: bytes, edits) -> bytes:
    out, at = [], 0
    for start, end, replacement in edits:
        out += [original[at:start], replacement]
        at = end
    return b"".join([*out, original[at:]])


