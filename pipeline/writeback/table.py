"""The extent of the customer range: the sheet's <dimension>, an Excel table over it,
and the widths of the columns the writeback adds.

When the writeback adds computed headers after the last used column, a table
(ListObject) whose header row is row 1 must grow over them, with a tableColumn each,
or Excel opens the file with a repair prompt.  Rows of a table's totals row are
staff formulas and are never blanked.  An added column gets a width of its own, or
Excel and LibreOffice show its dates as ### and cut its sentences off; the staff's
column widths are never touched.
"""
from __future__ import annotations

from lxml import etree

from pipeline.writeback.package import M, PackageError, column_letters, split_ref


def grow_dimension(root: etree._Element, last_column: int, last_row: int) -> None:
    """Widen the sheet's <dimension> (its used range) over what was written."""
    dimension = root.find(M + "dimension")
    if dimension is None or not last_column:
        return
    ref = dimension.get("ref", "A1")
    first, _, last = ref.partition(":")
    last = last or first
    end_column, end_row = split_ref(last)
    grown = f"{column_letters(max(end_column, last_column))}{max(end_row, last_row)}"
    if grown != last:
        dimension.set("ref", f"{first}:{grown}")


def widen_added_columns(root: etree._Element, widths: dict[int, float]) -> None:
    """Give each added column (1-based index -> width in characters) a <col> of its own,
    unless a staff <col> already covers it (their width stands)."""
    cols = root.find(M + "cols")
    existing = [] if cols is None else list(cols.iterchildren(M + "col"))
    covered = [(int(c.get("min", "0")), int(c.get("max", "0"))) for c in existing]
    wanted = sorted(index for index in widths
                    if not any(low <= index <= high for low, high in covered))
    if not wanted:
        return
    if cols is None:
        # CT_Worksheet order: ... sheetFormatPr, cols, sheetData: right before sheetData.
        # Made as a child first, so it takes the sheet's own prefix for the namespace.
        cols = etree.SubElement(root, M + "cols")
        root.find(M + "sheetData").addprevious(cols)
    for index in wanted:
        col = etree.SubElement(cols, M + "col", min=str(index), max=str(index),
                               width=_width_text(widths[index]), customWidth="1")
        after = next((c for c in existing if int(c.get("min", "0")) > index), None)
        if after is not None:
            after.addprevious(col)


def _width_text(width: float) -> str:
    text = repr(float(width))
    return text[:-2] if text.endswith(".0") else text


def totals_rows(tables) -> set[int]:
    """Rows of table totals: staff formulas there, never blanked."""
    rows: set[int] = set()
    for table in tables:
        count = _number(table, "totalsRowCount")
        end = split_ref(_table_range(table)[1])[1]
        if count:
            rows.update(range(end - count + 1, end + 1))
    return rows


def _table_range(table: etree._Element) -> tuple[str, str]:
    """A table's first and last cell: a table without a proper range is a damaged file,
    refused rather than guessed at."""
    first, _, last = table.get("ref", "").partition(":")
    last = last or first
    for ref in (first, last):
        split_ref(ref)          # raises bad_xml on a malformed reference
    return first, last


def _number(table: etree._Element, name: str) -> int:
    try:
        return int(table.get(name, "0") or 0)
    except ValueError:
        raise PackageError("bad_xml", f"table {name}={table.get(name)!r}") from None


def grow_table(table: etree._Element, added: list[tuple[int, str]]) -> bool:
    """Widen a table whose header row is row 1 over headers added right after it."""
    if table.get("headerRowCount", "1") == "0" or not added:
        return False
    first, last = _table_range(table)
    if split_ref(first)[1] != 1:
        return False
    end_column, end_row = split_ref(last)
    indexes = sorted(index for index, _ in added)
    if indexes != list(range(end_column + 1, end_column + 1 + len(indexes))):
        return False
    new_end = column_letters(indexes[-1])
    table.set("ref", f"{first}:{new_end}{end_row}")
    auto_filter = table.find(M + "autoFilter")
    if auto_filter is not None and ":" in auto_filter.get("ref", ""):
        start, _, stop = auto_filter.get("ref").partition(":")
        auto_filter.set("ref", f"{start}:{new_end}{split_ref(stop)[1]}")
    columns = table.find(M + "tableColumns")
    if columns is None:
        raise PackageError("bad_xml", f"table {table.get('name')!r} without tableColumns")
    next_id = max((int(c.get("id", "0")) for c in columns), default=0) + 1
    for offset, (_, header) in enumerate(sorted(added)):
        etree.SubElement(columns, M + "tableColumn", id=str(next_id + offset), name=header)
    columns.set("count", str(len(columns)))
    return True
