"""How far a worksheet really reaches, and a compact copy when that is mostly empty space.

python-calamine allocates a sheet as the rectangle from A1 to its farthest cell: one
stray value in XFD1048576 asks for 17 billion cells and aborts the process, one in
A1048576 makes a million blank rows.  ``measure`` scans the sheet's XML (streamed,
C-speed searches, no parse) for its size, its last row and its widest column; ``fits``
says whether that rectangle is about the size of the XML behind it.  When it is not,
``read.compact`` makes a compact copy first.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from openpyxl.utils.cell import column_index_from_string as column_number

from pipeline.read import overflow

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
    overflow: bool = False   # a date-formatted value calamine cannot take (read.overflow)

    def fits(self) -> bool:
        """The rectangle calamine would allocate is about the size of the XML behind it:
        a row takes at least 16 bytes of XML, a cell 4."""
        return (not self.overflow and self.columns <= MAX_COLUMNS and self.last_row <= self.size // 16 + SLACK_ROWS
                and self.columns * self.last_row <= self.size // 4 + SLACK_CELLS)


def measure(book: zipfile.ZipFile, part: str) -> Extent:
    """Streamed: a few C-speed searches per 4 MB, no parse (it runs beside calamine's read)."""
    size = last_row = 0
    low = False
    wide: set[bytes] = set()
    tail = b""
    with book.open(part) as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            data = tail + chunk
            cut = data.rfind(b"<")        # keep an unfinished tag for the next chunk
            cut = len(data) if cut < 0 or data.find(b">", cut) >= 0 else cut
            scan, tail = data[:cut], data[cut:]
            low = low or overflow.suspect(scan)
            if WIDE_REF.search(scan):
                wide.update(WIDE_REF.findall(scan))
            row = max(scan.rfind(b"<row "), scan.rfind(b":row "))   # rows come in order
            if row >= 0 and (number := LAST_ROW.match(scan, scan.rfind(b"<", 0, row + 1))):
                last_row = max(last_row, int(number.group(1)))
    columns = max((column_number(w.decode()) for w in wide), default=26)
    return Extent(size, last_row, columns, low)
