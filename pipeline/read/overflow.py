"""Cells calamine cannot read as typed: date-formatted numbers too far before 1900, and
Excel error values (#N/A, #DIV/0!…).

python-calamine turns a number in a date- or time-formatted cell into a date; for a
large negative number (about -1e11 and below, e.g. a typo -1e12 in 生日) its date
arithmetic overflows and it *panics*, which no ``except Exception`` catches and which
would end the night over one cell.  ``suspect`` spots such a value in a chunk of sheet
XML (a C-speed search, run beside the extent scan); ``undated`` drops the style of each
cell holding one, so calamine reads it as the plain number it is and validation names
the cell like any other bad date.  calamine reads an error cell (``t="e"``) as an empty
cell, so a #N/A in 在职 read as "empty = 是" (a rep who may have left got customers) and a
#N/A in 客户编号 or 金额 was reported as missing: such cells become text, so validation
names the error as typed.  Only the run's private copy is changed, never the file.
"""
from __future__ import annotations

import re

FLOOR = -1e10                 # calamine reads every date-formatted number above this
SUSPECT = re.compile(rb"<v>\s*-(?:\d{11}|[\d.]*[eE])|\st=\"e\"")
ERROR = re.compile(rb'(\st=)"e"')
CELL = re.compile(rb"<c\b([^>]*?)(/>|>(.*?)</c>)", re.DOTALL)
VALUE = re.compile(rb"<v>\s*([^<]*?)\s*</v>")
STYLE = re.compile(rb'\ss="\d+"')


def suspect(xml: bytes) -> bool:
    return SUSPECT.search(xml) is not None


def undated(xml: bytes) -> bytes:
    """The sheet's XML with the style removed from each cell whose value is below FLOOR,
    and each error cell typed as text."""
    if not suspect(xml):
        return xml
    return CELL.sub(_plain, xml)


def _plain(m: re.Match) -> bytes:
    body = m.group(3)
    if ERROR.search(m.group(1)):
        return b"<c" + ERROR.sub(rb'\1"str"', m.group(1)) + m.group(2)
    if not body or not (v := VALUE.search(body)) or not _too_low(v.group(1)):
        return m.group(0)
    return b"<c" + STYLE.sub(b"", m.group(1)) + m.group(2)


def _too_low(raw: bytes) -> bool:
    try:
        return float(raw) <= FLOOR
    except ValueError:
        return False
