"""The rows an append writes, as cells: the shared part of the 跟进记录 append (issue 13).

``LogAppend`` says what to append and how the register names the log's columns;
``Appended`` records where it went for the verify step; ``place`` finds (or adds) each
field's column; ``RowWriter`` fills a row's cells the way the log's cells above look.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from pipeline.writeback.cells import fill_new, is_missing
from pipeline.writeback.package import (
    M,
    PackageError,
    column_letters,
)
from pipeline.writeback.stream import column_of

_C, _ROW, _V, _IS = M + "c", M + "row", M + "v", M + "is"
_VALUE_TAGS = {_V, M + "f", _IS}
KINDS = {"date": "date", "expected_close": "date", "next_follow_up": "date", "satisfaction": "int"}


@dataclass(frozen=True)
class LogAppend:
    """What to append, and how the register names things."""
    sheet: str                                   # the follow-up sheet (created when missing)
    headers: tuple[tuple[str, str], ...]         # (field id, header): the log's fields in order,
    #                                              as the register's language writes them
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)   # field id -> other spellings
    rows: tuple[dict, ...] = ()                  # field id -> value ("source" included)


@dataclass(frozen=True)
class Appended:
    """Where the rows went, for the verify step."""
    part: str
    original: bytes | None                       # the sheet part before (None: created)
    first_row: int
    cells: dict[tuple[int, int], tuple[str, object]]   # (row, column) -> (kind, value)
    header_cells: frozenset[tuple[int, int]]     # header cells added in row 1
    new_parts: tuple[str, ...] = ()
    splice: tuple | None = None                  # fast path: ((start, end, new bytes), ...) on original
    headers: dict | None = None                  # fast path: column -> header added in row 1


def wanted_cells(log: LogAppend, places: dict[str, int], first: int) -> dict[int, dict[int, tuple[str, object]]]:
    wanted = {}
    for offset, row in enumerate(log.rows):
        cells = {}
        for name, column in places.items():
            value = row.get(name)
            if value is not None and not is_missing(value) and value != "":
                cells[column] = (KINDS.get(name, "text"), value)
        wanted[first + offset] = cells
    return wanted


def place(log: LogAppend, headers: dict[int, str], last_used: int):
    """Field id -> column for every field a row fills; missing headers added at the end."""
    by_name = {}
    for index, text in sorted(headers.items()):
        by_name.setdefault(text.strip().casefold(), index)
    needed = [name for name, _ in log.headers if any(r.get(name) not in (None, "") for r in log.rows)]
    places, added, next_free = {}, [], last_used
    for name, header in log.headers:
        names = [n.strip().casefold() for n in (header, *log.aliases.get(name, ()))]
        index = next((by_name[n] for n in names if n in by_name), None)
        if index is None and name in needed:
            next_free += 1
            index = next_free
            added.append((index, header))
        if index is not None:
            places[name] = index
    return places, added


class RowWriter:
    """Writes the new rows' cells as the log streams past (writeback.stream)."""

    def __init__(self, wanted, headers, styles_above, styles, date1904):
        self.wanted, self.headers = wanted, headers
        self.styles_above, self.styles, self.date1904 = styles_above, styles, date1904
        self._pending = sorted(wanted)

    def start(self, root) -> None:
        pass

    def row(self, row, r: int) -> None:
        if r == 1 and self.headers:
            self.fill(row, 1, {c: ("text", h) for c, h in self.headers.items()}, header=True)
            self.headers = {}
        while self._pending and self._pending[0] < r:
            created = etree.Element(_ROW, r=str(self._pending[0]))
            row.addprevious(created)
            self.fill(created, self._pending[0], self.wanted[self._pending.pop(0)])
        if self._pending and self._pending[0] == r:
            self.fill(row, r, self.wanted[self._pending.pop(0)])

    def end(self, sheet_data) -> None:
        if self.headers:       # no row 1 at all: the sheet had no headers
            created = etree.Element(_ROW, r="1")
            sheet_data.insert(0, created)
            self.fill(created, 1, {c: ("text", h) for c, h in self.headers.items()}, header=True)
        for r in self._pending:
            created = etree.SubElement(sheet_data, _ROW, r=str(r))
            self.fill(created, r, self.wanted[r])
        self._pending = []

    def fill(self, row, r: int, cells: dict, header: bool = False) -> None:
        existing = {column_of(c): c for c in row.iterchildren(_C)}
        header_style = next((c.get("s") for c in reversed(list(existing.values())) if c.get("s")), None)
        for column, (kind, value) in sorted(cells.items()):
            cell = existing.get(column)
            if cell is not None and any(child.tag in _VALUE_TAGS for child in cell):
                raise PackageError("log_cell_taken", f"{column_letters(column)}{r}")
            if cell is None:
                cell = _new_cell(row, existing, column, r)
                style = header_style if header else self.styles_above.get(column)
                if style is not None:
                    cell.set("s", style)
            fill_new(cell, kind, value, self.styles, self.date1904)
        if row.get("spans"):
            row.attrib.pop("spans")     # optional; a stale one would mislead Excel


def _new_cell(row, existing: dict, column: int, r: int):
    created = etree.Element(_C, r=f"{column_letters(column)}{r}")
    after = [c for c in existing if c > column]
    if after:
        existing[min(after)].addprevious(created)
    else:
        last = next((c for c in reversed(row) if c.tag == _C), None)
        if last is not None:
            last.addnext(created)
        else:
            row.insert(0, created)
    existing[column] = created
    return created


