"""Verifying an append to 跟进记录 (issue 13): every original row reads back as it was,
every new cell holds what was meant.  The streamed path compares the two versions row by
row; the spliced path compares bytes in place and parses only the inserted rows.
"""
from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from pipeline.writeback.package import (
    NS_MAIN,
    M,
    Package,
    column_letters,
    rich_text,
)
from pipeline.writeback.stream import column_of, iter_rows

from pipeline.writeback.log_rows import Appended
from pipeline.writeback.log_splice import lone_row, same_apart_from

_C, _ROW, _V, _IS = M + "c", M + "row", M + "v", M + "is"
_VALUE_TAGS = {_V, M + "f", _IS}

def check_appended(new: Package, appended: Appended, date1904: bool) -> str | None:
    """None when the log reads back right: original rows as they were, new cells as meant;
    else where it differs ('H7', or '7:7' for a row).  Streams both versions side by side."""
    if appended.splice is not None:
        return check_splice(new.read(appended.part), appended, date1904)
    ours = set(appended.cells) | set(appended.header_cells)
    old_rows = iter_rows(appended.original, appended.part) if appended.original is not None else iter(())
    new_rows = iter_rows(new.read(appended.part), appended.part)
    before, after = next(old_rows, None), next(new_rows, None)
    seen = 0
    while before is not None or after is not None:
        r_before = int(before.get("r")) if before is not None else 1 << 40
        r_after = int(after.get("r")) if after is not None else 1 << 40
        r = min(r_before, r_after)
        if r_after == r:
            for cell in after.iterchildren(_C):
                key = (r, column_of(cell))
                if key in appended.cells:
                    seen += 1
                    if not _reads_as(cell, *appended.cells[key], date1904):
                        return f"{column_letters(key[1])}{r}"
        was = _staff(before, ours, r) if r_before == r else b""
        now = _staff(after, ours, r) if r_after == r else b""
        if appended.original is not None and was != now:
            return f"{r}:{r}"
        if r_before == r:
            before = next(old_rows, None)
        if r_after == r:
            after = next(new_rows, None)
    return None if seen == len(appended.cells) else f"{appended.first_row}:{appended.first_row}"


def check_splice(xml: bytes, appended: Appended, date1904: bool) -> str | None:
    """The new part is the old one with only the spliced bytes changed, byte for byte; the
    spliced rows, parsed afresh, hold what was meant (header cells included)."""
    if not same_apart_from(xml, appended.original, appended.splice):
        return f"{appended.first_row - 1}:{appended.first_row - 1}"
    meant = {**appended.cells, **{(1, c): ("text", h) for c, h in (appended.headers or {}).items()}}
    seen = 0
    for start, end, replacement in appended.splice:
        if not replacement.startswith(b"<row"):
            continue
        if start != end:        # row 1 re-written with the added headers: the staff's cells as they were
            before, after = lone_row(appended.original[start:end]), lone_row(replacement)
            if after is None or _staff(after, set(meant), 1) != _staff(before, set(), 1):
                return "1:1"
        holder = etree.fromstring(b'<sheetData xmlns="%s">' % NS_MAIN.encode() + replacement + b"</sheetData>")
        for row in holder.iterchildren(_ROW):
            r = int(row.get("r"))
            for cell in row.iterchildren(_C):
                key = (r, column_of(cell))
                if key in meant:
                    if not _reads_as(cell, *meant[key], date1904):
                        return f"{column_letters(key[1])}{r}"
                    seen += 1
                elif r != 1:
                    return f"{column_letters(key[1])}{r}"
    return None if seen == len(meant) else f"{appended.first_row}:{appended.first_row}"


def _staff(row, ours: set, r: int) -> bytes:
    """The row without the cells this append wrote (and without spans, which it may drop)."""
    for cell in list(row.iterchildren(_C)):
        if (r, column_of(cell)) in ours:
            row.remove(cell)
    row.attrib.pop("spans", None)
    if not len(row) and set(row.attrib) <= {"r"}:
        return b""
    return etree.tostring(row, with_tail=False)


def _reads_as(cell, kind: str, value, date1904: bool) -> bool:
    if kind == "text":
        item = cell.find(_IS)
        return cell.get("t") == "inlineStr" and item is not None and _unescape(rich_text(item)) == str(value)
    number = cell.findtext(_V)
    try:
        number = float(number)
    except (TypeError, ValueError):
        return False
    if kind == "date":
        epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
        return number == (value - epoch).days
    return number == float(value)


def _unescape(text: str) -> str:
    text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    return text
