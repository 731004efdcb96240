"""A compact copy of a sheet that reaches much farther than its data (see ``read.extent``).

The rows are renumbered so the far ones follow the others (a value in A1048576 under a
table of 25,000 rows becomes row 25,001), cells right of the header row's last value are
dropped (validation reads nothing there), and each row's real Excel number is returned
so problems still name the row the staff see.  The usual sheet is rewritten on its bytes:
the dense part is copied as it is and only the rows after a long gap are renumbered, so
a 500,000-row sheet with one stray value costs about a second.  A sheet written with
namespace prefixes or rows without numbers is parsed instead (slower, rare).
"""
from __future__ import annotations

import re
import zipfile

from lxml import etree
from openpyxl.utils.cell import column_index_from_string as column_number
from openpyxl.utils.cell import get_column_letter as column_letters

from pipeline.read.extent import MAX_COLUMNS, REF, WIDE_REF

GAP = 1000                     # more blank rows than this in a row: the rows after it move up
ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:row|c)\b")
NUMBERED = re.compile(rb'(<row\b[^>]*?\br=")(\d+)(")|(<c\b[^>]*?\br="[A-Z]{1,3})(\d+)(")')
CELL_IN_ROW1 = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})1"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)


def compact(book: zipfile.ZipFile, part: str) -> tuple[bytes, list[int]]:
    """(the sheet's XML, each of its rows' Excel row number)."""
    data = book.read(part)
    found = _by_bytes(data)
    return found if found is not None else _by_parsing(book, part)


def _by_bytes(data: bytes) -> tuple[bytes, list[int]] | None:
    rows = [(m.start(), int(m.group(1))) for m in ROW.finditer(data)]
    numbers = [n for _, n in rows]
    if (not rows or PREFIXED.search(data) or sum(map(data.count, (b"<row ", b"<row>", b"<row/"))) != len(rows)
            or any(b <= a for a, b in zip(numbers, numbers[1:]))):
        return None   # prefixed, unnumbered or unordered rows: parse instead
    data = _without_far_cells(data, rows)
    rows = [(m.start(), int(m.group(1))) for m in ROW.finditer(data)]
    end = data.rfind(b"</sheetData>")
    if end < 0:
        return None
    pieces, mapped = [data[:rows[0][0]]], []
    starts = [0] + [i for i in range(1, len(rows)) if rows[i][1] - rows[i - 1][1] > GAP] + [len(rows)]
    new = 2 if rows[0][1] > GAP else rows[0][1]      # row 1 (the header) stays row 1, empty or not
    mapped = list(range(1, new))                     # rows above the first stay where they are
    for first, after in zip(starts, starts[1:]):
        segment = data[rows[first][0]:rows[after][0] if after < len(rows) else end]
        old_first, old_last = rows[first][1], rows[after - 1][1]
        shift = old_first - new
        pieces.append(segment if shift == 0 else NUMBERED.sub(lambda m, by=shift: _shifted(m, by), segment))
        mapped += range(old_first, old_last + 1)
        new += old_last - old_first + 1
    pieces.append(data[end:])
    return b"".join(pieces), mapped


def _shifted(match: re.Match, shift: int) -> bytes:
    if match.group(1):
        return match.group(1) + str(int(match.group(2)) - shift).encode() + match.group(3)
    return match.group(4) + str(int(match.group(5)) - shift).encode() + match.group(6)


def _without_far_cells(data: bytes, rows: list[tuple[int, int]]) -> bytes:
    """The sheet without the cells right of the header's last value (found by WIDE_REF: AA+)."""
    width = _header_width(data, rows)
    cut, kept = 0, []
    for match in WIDE_REF.finditer(data, rows[0][0], max(data.rfind(b"</sheetData>"), 0)):
        if column_number(match.group(1).decode()) <= width:
            continue
        start = data.rfind(b"<c", cut, match.start())
        close = data.find(b">", match.end())
        if start < 0 or close < 0:
            continue
        stop = close + 1 if data[close - 1:close] == b"/" else data.find(b"</c>", close) + 4
        if stop < 4:
            continue
        kept.append(data[cut:start])
        cut = stop
    kept.append(data[cut:])
    return b"".join(kept)


def _header_width(data: bytes, rows: list[tuple[int, int]]) -> int:
    """The column of row 1's last cell holding a value (MAX_COLUMNS when there is no row 1)."""
    if rows[0][1] != 1:
        return MAX_COLUMNS
    stop = rows[1][0] if len(rows) > 1 else data.find(b"</sheetData>")
    columns = [column_number(m.group(1).decode()) for m in CELL_IN_ROW1.finditer(data, rows[0][0], stop)
               if m.group(2) and (b"<v" in m.group(2) or b"<is" in m.group(2))]
    return min(max(columns, default=0), MAX_COLUMNS)


def _by_parsing(book: zipfile.ZipFile, part: str) -> tuple[bytes, list[int]]:
    """(the sheet's XML with only its rows that hold values, each kept row's Excel number).

    Row 1 (the header) always comes first, even when empty; cells right of the header's
    last value are dropped (validation reads nothing there)."""
    numbers, out = [1], [b'<row r="1"></row>']
    width, ns, last = MAX_COLUMNS, "", 0
    with book.open(part) as stream:
        for event, element in etree.iterparse(stream, events=("start", "end"), resolve_entities=False,
                                              no_network=True, load_dtd=False, huge_tree=True):
            if event == "start":
                if not ns and element.tag.endswith("}worksheet"):
                    ns = element.tag[1:].split("}")[0]
                continue
            if not element.tag.endswith("}row"):
                continue
            last = int(element.get("r") or last + 1)
            kept = [(column, cell) for column, cell in _cells(element) if column <= width]
            if last == 1:
                width = max((c for c, _ in kept), default=0)
                out[0] = _row(1, kept)
            elif kept:
                numbers.append(last)
                out.append(_row(len(numbers), kept))
            element.clear(keep_tail=False)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData>'.encode()
    return head + b"".join(out) + b"</sheetData></worksheet>", numbers


def _cells(row: etree._Element):
    """(column number, cell) of the row's cells that hold a value."""
    column = 0
    for cell in row:
        if not cell.tag.endswith("}c"):
            continue
        match = REF.match(cell.get("r") or "")
        column = column_number(match.group(1)) if match else column + 1
        if any(child.tag.endswith(("}v", "}is")) for child in cell):
            yield column, cell


def _row(number: int, cells) -> bytes:
    parts = [f'<row r="{number}">'.encode()]
    for column, cell in cells:
        cell.set("r", f"{column_letters(column)}{number}")
        parts.append(etree.tostring(cell, with_tail=False))
    parts.append(b"</row>")
    return b"".join(parts)
