"""Write the computed columns into the customer worksheet's XML, leaving all else alone.

Works on the parsed sheet part: finds (or adds) each computed column's header in row 1,
overwrites that column's cells row by row (inline strings, so the shared-string table
stays untouched), keeps each cell's style unless its value needs another number format,
widens <dimension> and a table over the range, and adds the colour rules once.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from pipeline.register_colours import add_highlights
from pipeline.register_styles import StyleBook
from pipeline.register_table import grow_dimension
from pipeline.xlsx_package import M, PackageError, column_letters, column_number, rich_text

if TYPE_CHECKING:
    from pipeline.writeback import OutColumn

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_C, _V, _IS, _T = M + "c", M + "v", M + "is", M + "t"
_VALUE_TAGS = {_V, M + "f", _IS}

@dataclass(frozen=True)
class PlacedColumn:
    column: OutColumn
    index: int          # 1-based column number in the sheet
    added: bool         # the header was missing and is written by this run


def update_customer_sheet(root: etree._Element, columns: Sequence[OutColumn],
                          shared: Callable[[set[int]], Mapping[int, str]], styles: StyleBook,
                          date1904: bool, keep_rows: set[int]) -> list[PlacedColumn]:
    """Write ``columns`` into the sheet; rows in ``keep_rows`` are never blanked."""
    sheet_data = root.find(M + "sheetData")
    if sheet_data is None:
        raise PackageError("bad_xml", "worksheet without sheetData")
    _number_rows_and_cells(sheet_data)
    rows = {int(row.get("r")): row for row in sheet_data.iterchildren(M + "row")}
    headers = _header_texts(rows.get(1), shared)
    placed = _place(columns, headers, _last_used_column(sheet_data))
    if any(p.added for p in placed):
        header_row = rows.get(1) if 1 in rows else _new_row(sheet_data, 1, rows)
        header_style = _header_style(header_row, headers)
        for p in placed:
            if p.added:
                cell = _cell_at(header_row, p.index, 1, None)
                _set_text(cell, p.column.header)
                if header_style is not None:
                    cell.set("s", header_style)
    last_row = _write_values(sheet_data, rows, placed, styles, date1904, keep_rows)
    grow_dimension(root, max(p.index for p in placed) if placed else 0, last_row)
    add_highlights(root, [(p.column.header, p.index) for p in placed], styles)
    return placed


def _number_rows_and_cells(sheet_data: etree._Element) -> None:
    """Give every row and cell an explicit r (the schema lets writers omit them).

    Writers that omit r omit it throughout, so checking each row's ends is enough;
    a cell missing r elsewhere is caught by _column_of.
    """
    for row in sheet_data.iterchildren(M + "row"):
        if row.get("r") is None or (len(row) and (row[0].get("r") is None
                                                   or row[-1].get("r") is None)):
            break
    else:
        return
    row_number = 0
    for row in sheet_data.iterchildren(M + "row"):
        row_number = int(row.get("r") or row_number + 1)
        row.set("r", str(row_number))
        column = 0
        for cell in row.iterchildren(M + "c"):
            column = _column_of(cell) if cell.get("r") else column + 1
            cell.set("r", f"{column_letters(column)}{row_number}")


_COLUMNS: dict[str, int] = {}


def _column_of(cell: etree._Element) -> int:
    """Column number of a cell from its r attribute (hot path: cached by letters)."""
    ref = cell.get("r")
    if ref is None:
        raise PackageError("bad_xml", "cell without a reference")
    letters = ref.rstrip("0123456789$").lstrip("$")
    number = _COLUMNS.get(letters)
    if number is None:
        number = _COLUMNS[letters] = column_number(letters)
    return number


def _cell_text(cell: etree._Element, shared: Mapping[int, str]) -> str | None:
    kind = cell.get("t")
    if kind == "inlineStr":
        item = cell.find(M + "is")
        return rich_text(item) if item is not None else None
    value = cell.find(M + "v")
    if value is None or value.text is None:
        return None
    return shared.get(int(value.text)) if kind == "s" else value.text


def _header_texts(row: etree._Element | None, shared: Callable) -> dict[int, str]:
    if row is None:
        return {}
    cells = list(row.iterchildren(M + "c"))
    wanted = {int(c.findtext(M + "v")) for c in cells
              if c.get("t") == "s" and (c.findtext(M + "v") or "").isdigit()}
    strings = shared(wanted)
    texts = {_column_of(c): _cell_text(c, strings) for c in cells}
    return {index: text.strip() for index, text in texts.items() if text and text.strip()}


def _last_used_column(sheet_data: etree._Element) -> int:
    last = 0
    for row in sheet_data.iterchildren(M + "row"):
        for cell in reversed(row):
            if cell.tag == M + "c" and any(child.tag in _VALUE_TAGS for child in cell):
                last = max(last, _column_of(cell))
                break
    return last


def _place(columns: Sequence[OutColumn], headers: dict[int, str],
           last_used: int) -> list[PlacedColumn]:
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
        if index in taken:
            raise ValueError(f"two computed columns share column {index}: {column.header}")
        taken.add(index)
        placed.append(PlacedColumn(column, index, added))
    return placed


def _header_style(row: etree._Element, headers: dict[int, str]) -> str | None:
    """New headers look like the rightmost existing header."""
    if not headers:
        return None
    rightmost = max(headers)
    for cell in row.iterchildren(M + "c"):
        if _column_of(cell) == rightmost:
            return cell.get("s")
    return None


def _write_values(sheet_data, rows, placed, styles, date1904, keep_rows) -> int:
    """Overwrite the computed cells of every row; returns the last row written."""
    if not placed:
        return 0
    wanted_rows = {r for p in placed for r, v in p.column.values.items()
                   if r >= 2 and not _is_missing(v)}
    for r in sorted(wanted_rows - rows.keys()):
        _new_row(sheet_data, r, rows)
    first_column = min(p.index for p in placed)
    # A new cell looks like the one above it in its column, else the column's default.
    style_above = _column_styles(sheet_data.getparent())
    for r, row in sorted(rows.items()):
        if r == 1:
            continue
        cells = _cells_from(row, first_column)
        base_style = row.get("s") if row.get("customFormat") in ("1", "true") else None
        for p in placed:
            value = p.column.values.get(r)
            cell = cells.get(p.index)
            if _is_missing(value):
                if cell is not None and r not in keep_rows:
                    _clear(cell)
                continue
            if cell is None:
                cell = _insert_cell(row, cells, p.index, r,
                                    base_style or style_above.get(p.index))
            _set_value(cell, p.column.kind, value, styles, date1904)
            if cell.get("s") is not None:
                style_above[p.index] = cell.get("s")
    return max(wanted_rows, default=0)


def _cells_from(row: etree._Element, first_column: int) -> dict[int, etree._Element]:
    """The row's cells from ``first_column`` rightwards (computed columns sit at the end)."""
    cells = {}
    child = row[-1] if len(row) else None
    while child is not None:
        if child.tag == M + "c":
            column = _column_of(child)
            if column < first_column:
                break
            cells[column] = child
        child = child.getprevious()
    return cells


def _insert_cell(row, cells: dict, index: int, r: int, style: str | None) -> etree._Element:
    """Create the cell in column order, given the row's cells right of the computed start."""
    created = etree.Element(M + "c", r=f"{column_letters(index)}{r}")
    after = [column for column in cells if column > index]
    if after:
        cells[min(after)].addprevious(created)
    else:
        last_cell = row[-1] if len(row) and row[-1].tag == _C else None
        if last_cell is None:
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


def _new_row(sheet_data: etree._Element, r: int, rows: dict) -> etree._Element:
    row = etree.Element(M + "row", r=str(r))
    later = [number for number in rows if number > r]
    if later:
        rows[min(later)].addprevious(row)
    else:
        sheet_data.append(row)
    rows[r] = row
    return row


def _cell_at(row: etree._Element, index: int, r: int, style: str | None) -> etree._Element:
    """The row's cell in column ``index``, created in column order when missing."""
    cells = {_column_of(cell): cell for cell in row.iterchildren(M + "c")}
    return cells.get(index) if index in cells else _insert_cell(row, cells, index, r, style)


def _clear(cell: etree._Element) -> None:
    """Empty a computed cell but keep its style (a bare cell is dropped)."""
    _clear_value(cell)
    if set(cell.attrib) == {"r"} and len(cell) == 0:
        cell.getparent().remove(cell)


def _set_value(cell, kind: str, value, styles: StyleBook, date1904: bool) -> None:
    # Hot path (runs for every computed cell of every customer): reuse the existing
    # <v> or <is><t> when the cell already has that shape, as it does after the first night.
    current = cell.get("s")
    style = styles.style_attr(current, kind)
    if style != current:
        cell.set("s", style)
    if kind == "text":
        _set_text(cell, str(value))
        return
    number = _number_text(kind, value, date1904)
    if len(cell) == 1 and cell[0].tag == _V and cell.get("t") is None and \
            cell.get("cm") is None and cell.get("vm") is None:
        cell[0].text = number
        return
    _clear_value(cell)
    etree.SubElement(cell, _V).text = number


def _clear_value(cell: etree._Element) -> None:
    for child in list(cell):
        if child.tag in _VALUE_TAGS:
            cell.remove(child)
    for attribute in ("t", "cm", "vm"):
        cell.attrib.pop(attribute, None)


def _set_text(cell: etree._Element, text: str) -> None:
    node = None
    if cell.get("t") == "inlineStr" and len(cell) == 1 and cell[0].tag == _IS and \
            len(cell[0]) == 1 and cell[0][0].tag == _T and cell.get("cm") is None:
        node = cell[0][0]
    else:
        _clear_value(cell)
        cell.set("t", "inlineStr")
        node = etree.SubElement(etree.SubElement(cell, _IS), _T)
    node.text = excel_text(text)
    if text != text.strip() or "\n" in text:
        node.set(XML_SPACE, "preserve")
    elif node.get(XML_SPACE) is not None:
        del node.attrib[XML_SPACE]


def excel_text(text: str) -> str:
    """Escape what XML cannot carry the way Excel does (_xHHHH_)."""
    if "_x" not in text and text.isprintable():
        return text
    text = _ESCAPE_LIKE.sub(lambda m: "_x005F" + m.group(0), text)
    return _ILLEGAL.sub(lambda m: "_x%04X_" % ord(m.group(0)), text)


def _number_text(kind: str, value, date1904: bool) -> str:
    if kind == "date":
        epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(
            value, dt.time())
        delta = moment.replace(tzinfo=None) - epoch
        serial = delta.days + delta.seconds / 86400
        return str(delta.days) if delta.seconds == 0 else repr(serial)
    if kind == "int":
        return str(int(value))
    if kind in ("percent", "money"):
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    raise ValueError(f"unknown column kind {kind!r}")


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NaTType", "NAType")


