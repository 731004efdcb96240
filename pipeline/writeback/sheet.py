"""Write the computed columns into the customer worksheet's XML, leaving all else alone.

Streams the sheet part row by row (register_stream): finds (or adds) each computed
column's header in row 1, overwrites that column's cells row by row (inline strings,
so the shared-string table stays untouched), keeps each cell's style unless its value
needs another number format, widens <dimension> and a table over the range, and adds
the colour rules once.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from pipeline.writeback.cells import clear, fill_new, is_missing, set_text, set_value
from pipeline.writeback.colours import add_highlights
from pipeline.writeback.columns import OutColumn
from pipeline.writeback.formulas import FormulaCarrier
from pipeline.writeback.package import M, PackageError, column_letters, rich_text
from pipeline.writeback.stream import column_of, iter_rows, join_sheet, rewrite_sheet
from pipeline.writeback.styles import StyleBook
from pipeline.writeback.table import grow_dimension, widen_added_columns
from pipeline.writeback.verify import StaffDigests
from pipeline.writeback.view import improve_view

_C, _ROW = M + "c", M + "row"
_VALUE_TAGS = {M + "v", M + "f", M + "is"}

# Widths in Excel character units (a Chinese character counts about 2): a date fits in
# 12, a header of four characters plus the filter button in 10.
_WIDTHS = {"date": 12, "int": 11, "percent": 12, "money": 12, "text": 10}


def column_width(column: OutColumn) -> float:
    """The width an added column gets: its own, else one for its kind of value."""
    return column.width if column.width is not None else _WIDTHS.get(column.kind, 10)


@dataclass(frozen=True)
class PlacedColumn:
    column: OutColumn
    index: int          # 1-based column number in the sheet
    added: bool         # the header was missing and is written by this run


def update_customer_sheet(xml: bytes, part: str, columns: Sequence[OutColumn],
                          shared: Callable[[set[int]], Mapping[int, str]],
                          new_styles: Callable[[], StyleBook], date1904: bool,
                          keep_rows: set[int]
                          ) -> tuple[bytes, list[PlacedColumn], StyleBook, StaffDigests]:
    """The sheet part with ``columns`` written, where they went, the styles they use and
    the digests of the original rows' staff cells (for register_verify).

    Rows in ``keep_rows`` are never blanked.  ``new_styles`` gives the workbook's styles
    as read, so a pass that is written again leaves no styles behind.
    """
    headers, last_used = header_row(xml, part, shared)
    while True:
        # New headers go after the last used column.  Row 1 nearly always reaches it; the
        # pass measures the real one and, when data reaches further, writes again.
        styles = new_styles()
        placed = _place(columns, headers, last_used)
        rows = _CustomerRows(placed, headers, styles, date1904, keep_rows)
        root, chunks = rewrite_sheet(xml, part, rows)
        if not rows.measuring or rows.last_used == last_used:
            break
        last_used = rows.last_used
    if rows.formulas.refusal is not None:
        raise rows.formulas.refusal
    grow_dimension(root, max(p.index for p in placed) if placed else 0, rows.last_row)
    widen_added_columns(root, {p.index: column_width(p.column) for p in placed if p.added})
    add_highlights(root, [(p.column.header, p.index) for p in placed], styles)
    improve_view(root, headers, [(p.column.header, p.index) for p in placed], styles)
    return join_sheet(root, chunks), placed, styles, rows.digests


class _CustomerRows:
    """Writes the computed cells of each row as the sheet streams past (writeback.stream)."""

    def __init__(self, placed, headers, styles, date1904, keep_rows):
        self.placed, self.headers, self.styles = placed, headers, styles
        self.date1904, self.keep_rows = date1904, keep_rows
        # Missing values dropped once, so a row asks each column a single dict lookup.
        self._values = [(p, {r: v for r, v in p.column.values.items() if not is_missing(v)},
                         column_letters(p.index)) for p in placed]
        wanted = sorted({r for _, values, _ in self._values for r in values if r >= 2})
        self.last_row = wanted[-1] if wanted else 0
        self._wanted = iter(wanted)
        self._next_wanted = next(self._wanted, None)
        self._header_due = any(p.added for p in placed)
        self._first_column = min((p.index for p in placed), default=0)
        self._style_above: dict[int, str] = {}
        self.measuring = any(p.added for p in placed)
        self.last_used = 0              # the last column with a value, in the original rows
        self.digests = StaffDigests({p.index for p in placed})
        self.formulas = FormulaCarrier({p.index for p in placed})

    def start(self, root: etree._Element) -> None:
        # A new cell looks like the one above it in its column, else the column's default.
        self._style_above = _column_styles(root)

    def row(self, row: etree._Element, r: int) -> None:
        self.digests.record(row, r)     # before anything is written into it
        self.formulas.carry(row)        # shared formulas whose master is ours, made plain
        if self.measuring:
            self.last_used = max(self.last_used, _last_valued(row))
        if self._header_due:
            self._write_header(row if r == 1 else _row_before(row, 1))
        while self._next_wanted is not None and self._next_wanted <= r:
            if self._next_wanted < r:
                self._write_values(_row_before(row, self._next_wanted), self._next_wanted)
            self._next_wanted = next(self._wanted, None)
        if r != 1:
            self._write_values(row, r)

    def end(self, sheet_data: etree._Element) -> None:
        if self._header_due:
            self._write_header(_row_at_end(sheet_data, 1))
        while self._next_wanted is not None:
            self._write_values(_row_at_end(sheet_data, self._next_wanted), self._next_wanted)
            self._next_wanted = next(self._wanted, None)

    def _write_header(self, row: etree._Element) -> None:
        self._header_due = False
        header_style = _header_style(row, self.headers)
        for p in self.placed:
            if p.added:
                cell = _header_cell(row, p.index)
                set_text(cell, p.column.header)
                # An empty cell the staff formatted (a border, a fill) keeps its look:
                # only the value is ours.  A new or unformatted one looks like the headers.
                if header_style is not None and cell.get("s") is None:
                    cell.set("s", header_style)

    def _write_values(self, row: etree._Element, r: int) -> None:
        """Overwrite the computed cells of one row."""
        if not self.placed:
            return
        cells = _cells_from(row, self._first_column)
        base_style = row.get("s") if row.get("customFormat") in ("1", "true") else None
        style_above, styles, date1904 = self._style_above, self.styles, self.date1904
        for p, values, letters in self._values:
            value = values.get(r)
            cell = cells.get(p.index)
            if value is None:
                if cell is not None and r not in self.keep_rows:
                    clear(cell)
                continue
            if cell is None:
                cell = _insert_cell(row, cells, p.index, f"{letters}{r}",
                                    base_style or style_above.get(p.index))
                fill_new(cell, p.column.kind, value, styles, date1904)
            else:
                set_value(cell, p.column.kind, value, styles, date1904)
            style = cell.get("s")
            if style is not None:
                style_above[p.index] = style


def _row_before(row: etree._Element, r: int) -> etree._Element:
    created = etree.Element(_ROW, r=str(r))
    row.addprevious(created)
    return created


def _row_at_end(sheet_data: etree._Element, r: int) -> etree._Element:
    created = etree.Element(_ROW, r=str(r))
    sheet_data.append(created)
    return created


def _cell_text(cell: etree._Element, shared: Mapping[int, str]) -> str | None:
    kind = cell.get("t")
    if kind == "inlineStr":
        item = cell.find(M + "is")
        return rich_text(item) if item is not None else None
    value = cell.find(M + "v")
    if value is None or value.text is None:
        return None
    if kind != "s":
        return value.text
    try:
        return shared.get(int(value.text))
    except ValueError:
        raise PackageError("bad_xml", f"{cell.get('r')}: shared string {value.text!r}") from None


def header_row(xml: bytes, part: str, shared: Callable) -> tuple[dict[int, str], int]:
    """Row 1's header texts by column, and its last column with a value (first row only)."""
    rows = iter_rows(xml, part)
    try:
        row = next(rows, None)
        if row is None or row.get("r") != "1":
            return {}, 0
        cells = list(row.iterchildren(M + "c"))
        wanted = {int(c.findtext(M + "v")) for c in cells
                  if c.get("t") == "s" and (c.findtext(M + "v") or "").isdigit()}
        strings = shared(wanted)
        texts = {column_of(c): _cell_text(c, strings) for c in cells}
        last_used = _last_valued(row)
    finally:
        rows.close()
    return ({index: text.strip() for index, text in texts.items() if text and text.strip()},
            last_used)


def _last_valued(row: etree._Element) -> int:
    for cell in reversed(row):
        if cell.tag == _C and any(child.tag in _VALUE_TAGS for child in cell):
            return column_of(cell)
    return 0


LAST_COLUMN = 16384   # XFD, Excel's last column


def _place(columns: Sequence[OutColumn], headers: dict[int, str],
           last_used: int) -> list[PlacedColumn]:
    """Each column's place: its header's column, or a new one after the last used column."""
    by_name: dict[str, int] = {}
    for index, text in sorted(headers.items()):
        by_name.setdefault(text.casefold(), index)
    placed, taken, next_free = [], set(), last_used
    for column in columns:
        names = [name.strip().casefold() for name in (column.header, *column.aliases)]
        index = next((by_name[n] for n in names if n in by_name), None)
        added = index is None
        if added:
            next_free += 1
            index = next_free
            if index > LAST_COLUMN:   # no column after XFD: Excel could not open the file
                raise PackageError("no_room", column_letters(last_used))
        if index in taken:
            raise PackageError("header_clash", f"{column_letters(index)}1 {column.header}")
        taken.add(index)
        placed.append(PlacedColumn(column, index, added))
    return placed


def _header_style(row: etree._Element, headers: dict[int, str]) -> str | None:
    """New headers look like the rightmost existing header."""
    if not headers:
        return None
    rightmost = max(headers)
    for cell in row.iterchildren(M + "c"):
        if column_of(cell) == rightmost:
            return cell.get("s")
    return None


def _cells_from(row: etree._Element, first_column: int) -> dict[int, etree._Element]:
    """The row's cells from ``first_column`` rightwards (computed columns sit at the end)."""
    cells = {}
    child = row[-1] if len(row) else None
    while child is not None:
        if child.tag == M + "c":
            column = column_of(child)
            if column < first_column:
                break
            cells[column] = child
        child = child.getprevious()
    return cells


def _insert_cell(row, cells: dict, index: int, ref: str, style: str | None) -> etree._Element:
    """Create the cell in column order, given the row's cells right of the computed start."""
    after = [column for column in cells if column > index]
    last = row[-1] if len(row) else None
    if not after and (last is None or last.tag == _C):
        # After the last cell: created in place (the common case, and the cheap one).
        created = etree.SubElement(row, _C, r=ref)
    else:
        created = etree.Element(_C, r=ref)
        if after:
            cells[min(after)].addprevious(created)
        else:
            last_cell = next((c for c in reversed(row) if c.tag == _C), None)
            if last_cell is not None:
                last_cell.addnext(created)
            else:
                row.insert(0, created)
    cells[index] = created
    if style is not None:
        created.set("s", style)
    spans = row.get("spans")
    if spans and ":" in spans:
        head, _, high = spans.rpartition(":")
        if high.isdigit() and int(high) < index:
            row.set("spans", f"{head}:{index}")
    return created


def _column_styles(root: etree._Element) -> dict[int, str]:
    styles = {}
    for col in root.iterfind(f"{M}cols/{M}col"):
        if col.get("style") is not None:
            for index in range(int(col.get("min")), min(int(col.get("max")), 16384) + 1):
                styles[index] = col.get("style")
    return styles


def _header_cell(row: etree._Element, index: int) -> etree._Element:
    """Row 1's cell in column ``index``, created in column order when missing."""
    cells = {column_of(cell): cell for cell in row.iterchildren(M + "c")}
    return cells.get(index) if index in cells else _insert_cell(
        row, cells, index, f"{column_letters(index)}1", None)
