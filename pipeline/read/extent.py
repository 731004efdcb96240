"""How far a worksheet really reaches, and a compact copy when that is mostly empty space.

python-calamine allocates a sheet as the rectangle from A1 to its farthest cell: one
stray value in XFD1048576 asks for 17 billion cells and aborts the process, one in
A1048576 makes a million blank rows.  ``measure`` scans the sheet's XML (streamed,
C-speed searches, no parse) for its size, its last row and its widest column; ``fits``
says whether that rectangle is about the size of the XML behind it.  When it is not, ``compact`` rewrites the sheet with only the rows that hold
values, numbered 1, 2, 3…, and only the columns of its header row (row 1), and
returns each kept row's real Excel number, so problems still name the row the staff see.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from lxml import etree


CHUNK = 1 << 22
MAX_COLUMNS = 1024            # a register has a few dozen; cells beyond this column are ignored
SLACK_ROWS, SLACK_CELLS = 1000, 1_000_000
LAST_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br=\"(\d+)\"")
WIDE_REF = re.compile(rb'r="([A-Z][A-Z][A-Z]?)\d')     # a cell in column AA or beyond (literal prefix: fast)
REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


@dataclass(frozen=True)
class Extent:
    size: int          # bytes of sheet XML
    last_row: int
    columns: int       # the widest column referenced (26 when none is past Z)

    def fits(self) -> bool:
        """The rectangle calamine would allocate is about the size of the XML behind it:
        a row takes at least 16 bytes of XML, a cell 4."""
        return (self.columns <= MAX_COLUMNS and self.last_row <= self.size // 16 + SLACK_ROWS
                and self.columns * self.last_row <= self.size // 4 + SLACK_CELLS)


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def measure(book: zipfile.ZipFile, part: str) -> Extent:
    """Streamed: a few C-speed searches per 4 MB, no parse (it runs beside calamine's read)."""
    size = last_row = 0
    wide: set[bytes] = set()
    tail = b""
    with book.open(part) as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            data = tail + chunk
            cut = data.rfind(b"<")        # keep an unfinished tag for the next chunk
            cut = len(data) if cut < 0 or data.find(b">", cut) >= 0 else cut
            scan, tail = data[:cut], data[cut:]
            if WIDE_REF.search(scan):
                wide.update(WIDE_REF.findall(scan))
            row = max(scan.rfind(b"<row "), scan.rfind(b":row "))   # rows come in order
            if row >= 0 and (number := LAST_ROW.match(scan, scan.rfind(b"<", 0, row + 1))):
                last_row = max(last_row, int(number.group(1)))
    columns = max((column_number(w.decode()) for w in wide), default=26)
    return Extent(size, last_row, columns)


def compact(book: zipfile.ZipFile, part: str) -> tuple[bytes, list[int]]:
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


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _row(number: int, cells) -> bytes:
    parts = [f'<row r="{number}">'.encode()]
    for column, cell in cells:
        cell.set("r", f"{_letters(column)}{number}")
        parts.append(etree.tostring(cell, with_tail=False))
    parts.append(b"</row>")
    return b"".join(parts)
