"""Read the rewritten customer sheet back and check every staff-entered cell is unchanged.

Cells in the pipeline's own columns are set aside; everything else in a row (each
cell's value, formula, type and style, and the row's own formatting) must serialise
to the very same XML as before, with formulas compared as Excel evaluates them (a
shared formula's cell as its master's text shifted, writeback.formulas).  The write pass records a digest of each original
row's staff part (StaffDigests), so the check streams only the new bytes, parsed
afresh, and compares digests row by row; when one differs, both versions are streamed
side by side to name the first differing cell.  Memory stays at one row either way.
"""
from __future__ import annotations

import hashlib

from lxml import etree

from pipeline.writeback.formulas import SharedFormulas, resolve_shared, undo
from pipeline.writeback.package import M, column_letters
from pipeline.writeback.stream import column_of, iter_rows

_C = M + "c"
_NO_ROW = 1 << 40


class StaffDigests:
    """Digests of the staff part of each original row, recorded as the write pass reads it."""

    def __init__(self, owned: set[int]):
        self.owned, self._first_owned = owned, min(owned, default=_NO_ROW)
        self.rows: list[tuple[int, bytes]] = []
        self.formulas = SharedFormulas()

    def record(self, row: etree._Element, r: int) -> None:
        """Digest the row as read, leaving it as it was (it is written out afterwards)."""
        shared = self.formulas.observe(row)     # masters in owned cells count too
        # The owned cells are set aside and put back.  They nearly always sit at the end
        # of the row, and moving that run as one slice keeps this cheap.
        suffix_from, middle = len(row), []
        for position, child in enumerate(reversed(row)):
            if child.tag != _C:
                continue
            column = column_of(child)
            if column < self._first_owned:
                break
            if column in self.owned:
                if position == len(row) - suffix_from:
                    suffix_from -= 1
                else:
                    middle.append(len(row) - 1 - position)
        child = None
        suffix = row[suffix_from:]
        del row[suffix_from:]
        aside = [(position, row[position]) for position in middle]
        for position, _ in aside:               # descending, so positions stay valid
            del row[position]
        spans = row.attrib.pop("spans", None)
        resolved = resolve_shared(row, self.formulas) if shared else []
        try:
            digest = _digest(etree.tostring(row, encoding="UTF-8", with_tail=False)
                             if _has_staff_part(row) else b"")
        finally:
            undo(resolved)
            for position, cell in reversed(aside):
                row.insert(position, cell)
            row.extend(suffix)
            if spans is not None:
                row.set("spans", spans)
        if digest is not None:
            self.rows.append((r, digest))


def first_changed_row(new: bytes, part: str, digests: StaffDigests) -> int | None:
    """The first row whose staff part in the new sheet part differs from the recorded
    original (a row gained, lost or changed), or None."""
    owned, first_owned = digests.owned, min(digests.owned, default=_NO_ROW)
    expected, formulas = iter(digests.rows), SharedFormulas()
    for row in iter_rows(new, part):
        r = int(row.get("r"))
        digest = _digest(_staff_xml(row, owned, first_owned, formulas))
        if digest is None:
            continue
        wanted = next(expected, None)
        if wanted != (r, digest):
            return min(r, wanted[0]) if wanted is not None else r
    left = next(expected, None)
    return left[0] if left is not None else None


def _digest(staff_xml: bytes) -> bytes | None:
    """None for a row with nothing of the staff's (as _staff_xml gives b"")."""
    return hashlib.blake2b(staff_xml, digest_size=16).digest() if staff_xml else None


def first_staff_difference(old: bytes, new: bytes, part: str, owned: set[int]) -> str | None:
    """The first cell ('H2', or '7:7' for a row's formatting) outside the ``owned`` columns
    that differs between the two versions of the sheet part, or None."""
    first_owned = min(owned, default=_NO_ROW)
    old_rows, new_rows = iter_rows(old, part), iter_rows(new, part)
    old_formulas, new_formulas = SharedFormulas(), SharedFormulas()
    before, after = next(old_rows, None), next(new_rows, None)
    while before is not None or after is not None:
        r_before = int(before.get("r")) if before is not None else _NO_ROW
        r_after = int(after.get("r")) if after is not None else _NO_ROW
        r = min(r_before, r_after)
        was = _staff_xml(before, owned, first_owned, old_formulas) if r_before == r else b""
        now = _staff_xml(after, owned, first_owned, new_formulas) if r_after == r else b""
        if was != now:
            return _where(before if r_before == r else None, after if r_after == r else None, r)
        if r_before == r:
            before = next(old_rows, None)
        if r_after == r:
            after = next(new_rows, None)
    return None


def _staff_xml(row: etree._Element, owned: set[int], first_owned: int,
               formulas: SharedFormulas) -> bytes:
    """The row without its owned cells (the pipeline's columns sit at the end, mostly),
    shared formulas resolved as Excel evaluates them (writeback.formulas)."""
    shared = formulas.observe(row)
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
    if shared:
        resolve_shared(row, formulas)
    if not _has_staff_part(row):
        return b""
    return etree.tostring(row, encoding="UTF-8", with_tail=False)


def _has_staff_part(row: etree._Element) -> bool:
    """A row keeps a staff part while it has cells left or formatting of its own (ht,
    hidden, s/customFormat...): only a bare <row r=".."> is nothing of the staff's."""
    return len(row) > 0 or any(name not in ("r", "spans") for name in row.attrib)


def _where(before: etree._Element | None, after: etree._Element | None, r: int) -> str:
    def cells(row):
        return {} if row is None else {column_of(c): etree.tostring(c, with_tail=False)
                                       for c in row.iterchildren(_C)}
    was, now = cells(before), cells(after)
    for column in sorted(was.keys() | now.keys()):
        if was.get(column) != now.get(column):
            return f"{column_letters(column)}{r}"
    return f"{r}:{r}"
