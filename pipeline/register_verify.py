"""Read the rewritten customer sheet back and check every staff-entered cell is unchanged.

Both versions of the sheet part are streamed side by side, row by row (register_stream),
so the check costs no more memory than one row.  Cells in the pipeline's own columns
are set aside; everything else in a row (each cell's value, formula, type and style,
and the row's own formatting) must serialise to the very same XML as before.
"""
from __future__ import annotations

from lxml import etree

from pipeline.register_stream import column_of, iter_rows
from pipeline.xlsx_package import M, column_letters

_C = M + "c"
_NO_ROW = 1 << 40


def first_staff_difference(old: bytes, new: bytes, part: str, owned: set[int]) -> str | None:
    """The first cell ('H2', or '7:7' for a row's formatting) outside the ``owned`` columns
    that differs between the two versions of the sheet part, or None."""
    first_owned = min(owned, default=_NO_ROW)
    old_rows, new_rows = iter_rows(old, part), iter_rows(new, part)
    before, after = next(old_rows, None), next(new_rows, None)
    while before is not None or after is not None:
        r_before = int(before.get("r")) if before is not None else _NO_ROW
        r_after = int(after.get("r")) if after is not None else _NO_ROW
        r = min(r_before, r_after)
        was = _staff_xml(before, owned, first_owned) if r_before == r else b""
        now = _staff_xml(after, owned, first_owned) if r_after == r else b""
        if was != now:
            return _where(before if r_before == r else None, after if r_after == r else None, r)
        if r_before == r:
            before = next(old_rows, None)
        if r_after == r:
            after = next(new_rows, None)
    return None


def _staff_xml(row: etree._Element, owned: set[int], first_owned: int) -> bytes:
    """The row without its owned cells (the pipeline's columns sit at the end, mostly)."""
    # Positions, not elements: lxml frees a removed cell at once only if no Python
    # object refers to it, and that is what keeps this fast.
    positions, keep_tail_from = [], len(row)
    for position in range(len(row) - 1, -1, -1):
        child = row[position]
        if child.tag != _C:
            continue
        column = column_of(child)
        if column < first_owned:
            break
        if column in owned:
            positions.append(position)
            if position == keep_tail_from - 1:
                keep_tail_from = position
    child = None
    del row[keep_tail_from:]
    for position in positions:
        if position < keep_tail_from:
            del row[position]
    row.attrib.pop("spans", None)       # widened when cells are added: not staff formatting
    if not len(row):
        return b""
    return etree.tostring(row, encoding="UTF-8", with_tail=False)


def _where(before: etree._Element | None, after: etree._Element | None, r: int) -> str:
    def cells(row):
        return {} if row is None else {column_of(c): etree.tostring(c, with_tail=False)
                                       for c in row.iterchildren(_C)}
    was, now = cells(before), cells(after)
    for column in sorted(was.keys() | now.keys()):
        if was.get(column) != now.get(column):
            return f"{column_letters(column)}{r}"
    return f"{r}:{r}"
