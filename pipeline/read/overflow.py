"""Date-formatted numbers too far before 1900 for calamine.

python-calamine turns a number in a date- or time-formatted cell into a date; for a
large negative number (about -1e11 and below, e.g. a typo -1e12 in 生日) its date
arithmetic overflows and it *panics*, which no ``except Exception`` catches and which
would end the night over one cell.  ``suspect`` spots such a value in a chunk of sheet
XML (a C-speed search, run beside the extent scan); ``undated`` drops the style of each
cell holding one, so calamine reads it as the plain number it is and validation names
the cell like any other bad date.  Only the run's private copy is changed, never the file.
"""
from __future__ import annotations

import re

FLOOR = -1e10                 # calamine reads every date-formatted number above this
SUSPECT = re.compile(rb"<v>\s*-(?:\d{11}|[\d.]*[eE])")
CELL = re.compile(rb"<c\b([^>]*?)(/>|>(.*?)</c>)", re.DOTALL)
VALUE = re.compile(rb"<v>\s*([^<]*?)\s*</v>")
STYLE = re.compile(rb'\ss="\d+"')


def suspect(xml: bytes) -> bool:
    return SUSPECT.search(xml) is not None


def undated(xml: bytes) -> bytes:
    """The sheet's XML with the style removed from each cell whose value is below FLOOR."""
    if not suspect(xml):
        return xml
    return CELL.sub(_plain, xml)


def _plain(m: re.Match) -> bytes:
    body = m.group(3)
    if not body or not (v := VALUE.search(body)) or not _too_low(v.group(1)):
        return m.group(0)
    return b"<c" + STYLE.sub(b"", m.group(1)) + m.group(2)


def _too_low(raw: bytes) -> bool:
    try:
        return float(raw) <= FLOOR
    except ValueError:
        return False
