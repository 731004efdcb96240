"""Append follow-up rows to the register's 跟进记录 sheet, in place (issue 13).

Rows that reps sent by email go under the last row of the log, in that worksheet's
XML only: a staff row is never touched (a formatted but empty row below the data
gets the cells, its own formatting kept), new cells look like the cell above them,
dates get a date format, text is written inline (sharedStrings stays as it is).  A
``来源`` column says where each row came from; it is added after the last used column
when the log has none (and so is any field the log lacks a column for).  An Excel
table over the log grows over the new rows (and the new column).  A register without
a follow-up sheet gets one, with headers in the register's language: then
workbook.xml, its relationships and [Content_Types].xml gain one entry each.

``check_appended`` is the verify step's half for this sheet: every original row
reads back identical and every appended cell holds what was meant.
"""
from __future__ import annotations

from dataclasses import dataclass, field


from pipeline.writeback.package import (
    M,
    Package,
    PackageError,
    column_letters,
    locate,
    serialize_xml,
    shared_strings,
    split_ref,
)
from pipeline.writeback.sheet import header_row
from pipeline.writeback.stream import column_of, iter_rows, join_sheet, rewrite_sheet
from pipeline.writeback.styles import StyleBook
from pipeline.writeback.table import grow_dimension, grow_table, widen_added_columns
from pipeline.writeback.view import grow_filter_name, grow_log_filter_element

from pipeline.writeback.log_new_sheet import into_new_sheet
from pipeline.writeback.log_rows import KINDS, Appended, LogAppend, place, wanted_cells, RowWriter
from pipeline.writeback.log_splice import splice_rows
from pipeline.writeback.log_verify import check_appended

__all__ = ["Appended", "LogAppend", "append_log", "check_appended"]
_C, _ROW, _V, _IS = M + "c", M + "row", M + "v", M + "is"
_VALUE_TAGS = {_V, M + "f", _IS}


def append_log(package: Package, log: LogAppend, styles: StyleBook, date1904: bool,
               replaced: dict[str, bytes], added: dict[str, bytes]) -> Appended:
    """Fill ``replaced`` (and ``added``, for a new sheet) with the parts that change."""
    try:
        parts = locate(package, log.sheet)
    except PackageError as error:
        if error.code != "sheet_missing":
            raise
        return into_new_sheet(package, log, styles, date1904, replaced, added, _append)
    xml = package.read(parts.sheet)
    tables = {p: package.xml(p) for p in parts.tables}
    shared = lambda wanted: shared_strings(package, parts.shared_strings, wanted)   # noqa: E731
    spliced = splice_rows(xml, parts.sheet, log, styles, date1904, shared, tables)
    if spliced is not None:
        new_xml, appended, header_added = spliced
    else:
        new_xml, appended, header_added = _append(xml, parts.sheet, log, styles, date1904, shared, tables)
    replaced[parts.sheet] = new_xml
    named = grow_filter_name(package, log.sheet, xml, new_xml, replaced)
    if named:
        replaced[named[0]] = named[1]
    for part, table in tables.items():
        if _grow_table_rows(table, appended, header_added):
            replaced[part] = serialize_xml(table)
    return appended


def _append(xml: bytes, part: str, log: LogAppend, styles: StyleBook, date1904: bool, shared, tables):
    headers, _ = header_row(xml, part, shared)
    scan = _scan(xml, part)
    for table in tables.values():
        if int(table.get("totalsRowCount", "0") or 0):
            raise PackageError("log_table_totals", table.get("name", ""))
    places, header_added = place(log, headers, max(scan.last_column, max(headers, default=0)))
    first = scan.last_valued + 1
    wanted = wanted_cells(log, places, first)
    writer = RowWriter(wanted, {c: h for c, h in header_added}, scan.styles_above, styles, date1904)
    root, chunks = rewrite_sheet(xml, part, writer)
    last_column = max([*places.values(), 1])
    grow_dimension(root, last_column, first + len(log.rows) - 1)
    if wanted:
        grow_log_filter_element(root, first, max(wanted), last_column)
    widen_added_columns(root, {c: 12 if KINDS.get(name) == "date" else 16 if name == "source" else 10
                               for name, c in places.items() if c in dict(header_added)})
    appended = Appended(part, xml, first,
                        {(r, c): v for r, cells in wanted.items() for c, v in cells.items()},
                        frozenset((1, c) for c, _ in header_added))
    return join_sheet(root, chunks), appended, header_added


@dataclass
class _Scan:
    last_valued: int = 1            # the last row with a value (the header at least)
    last_column: int = 0            # the last column with a value in any row
    styles_above: dict[int, str] = field(default_factory=dict)   # the last valued row's styles


def _scan(xml: bytes, part: str) -> _Scan:
    scan = _Scan()
    for row in iter_rows(xml, part):
        valued = [c for c in row.iterchildren(_C) if any(child.tag in _VALUE_TAGS for child in c)]
        if valued:
            r = int(row.get("r"))
            scan.last_column = max(scan.last_column, column_of(valued[-1]))
            if r > 1:
                scan.styles_above = {column_of(c): c.get("s") for c in row.iterchildren(_C) if c.get("s")}
            scan.last_valued = r
    return scan


def _grow_table_rows(table, appended: Appended, header_added) -> bool:
    """A table over the log (header in row 1, ending at the data's end or below) takes the
    new rows, and the added columns when they are right next to it."""
    first, _, last = table.get("ref", "").partition(":")
    if not last or split_ref(first)[1] != 1:
        return False
    end_column, end_row = split_ref(last)
    changed = grow_table(table, [(c, h) for c, h in header_added])
    if changed:
        first, _, last = table.get("ref").partition(":")
        end_column, end_row = split_ref(last)
    new_end = appended.first_row + max(0, len({r for r, _ in appended.cells}) - 1)
    if end_row < appended.first_row - 1 or end_row >= new_end:
        return changed
    table.set("ref", f"{first}:{column_letters(end_column)}{new_end}")
    auto_filter = table.find(M + "autoFilter")
    if auto_filter is not None and ":" in auto_filter.get("ref", ""):
        start, _, stop = auto_filter.get("ref").partition(":")
        auto_filter.set("ref", f"{start}:{column_letters(split_ref(stop)[0])}{new_end}")
    return True


