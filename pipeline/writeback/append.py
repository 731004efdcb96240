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

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from pipeline.writeback.cells import fill_new, is_missing
from pipeline.writeback.package import (
    NS_DOC_REL,
    NS_MAIN,
    NS_PKG_REL,
    M,
    Package,
    PackageError,
    column_letters,
    column_number,
    locate,
    parse_xml,
    rich_text,
    serialize_xml,
    shared_strings,
    split_ref,
)
from pipeline.writeback.sheet import _header_row
from pipeline.writeback.stream import column_of, iter_rows, join_sheet, rewrite_sheet
from pipeline.writeback.styles import StyleBook
from pipeline.writeback.table import grow_dimension, grow_table, widen_added_columns

_C, _ROW, _V, _IS = M + "c", M + "row", M + "v", M + "is"
_VALUE_TAGS = {_V, M + "f", _IS}
KINDS = {"date": "date", "expected_close": "date", "next_follow_up": "date", "satisfaction": "int"}
SHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
SHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


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


def append_log(package: Package, log: LogAppend, styles: StyleBook, date1904: bool,
               replaced: dict[str, bytes], added: dict[str, bytes]) -> Appended:
    """Fill ``replaced`` (and ``added``, for a new sheet) with the parts that change."""
    try:
        parts = locate(package, log.sheet)
    except PackageError as error:
        if error.code != "sheet_missing":
            raise
        return _into_new_sheet(package, log, styles, date1904, replaced, added)
    xml = package.read(parts.sheet)
    tables = {p: package.xml(p) for p in parts.tables}
    shared = lambda wanted: shared_strings(package, parts.shared_strings, wanted)   # noqa: E731
    spliced = _splice(xml, parts.sheet, log, styles, date1904, shared, tables)
    if spliced is not None:
        new_xml, appended, header_added = spliced
    else:
        new_xml, appended, header_added = _append(xml, parts.sheet, log, styles, date1904, shared, tables)
    replaced[parts.sheet] = new_xml
    for part, table in tables.items():
        if _grow_table_rows(table, appended, header_added):
            replaced[part] = serialize_xml(table)
    return appended


def _append(xml: bytes, part: str, log: LogAppend, styles: StyleBook, date1904: bool, shared, tables):
    headers, _ = _header_row(xml, part, shared)
    scan = _scan(xml, part)
    for table in tables.values():
        if int(table.get("totalsRowCount", "0") or 0):
            raise PackageError("log_table_totals", table.get("name", ""))
    places, header_added = _place(log, headers, max(scan.last_column, max(headers, default=0)))
    first = scan.last_valued + 1
    wanted = _wanted(log, places, first)
    writer = _Writer(wanted, {c: h for c, h in header_added}, scan.styles_above, styles, date1904)
    root, chunks = rewrite_sheet(xml, part, writer)
    last_column = max([*places.values(), 1])
    grow_dimension(root, last_column, first + len(log.rows) - 1)
    widen_added_columns(root, {c: 12 if KINDS.get(name) == "date" else 16 if name == "source" else 10
                               for name, c in places.items() if c in dict(header_added)})
    appended = Appended(part, xml, first,
                        {(r, c): v for r, cells in wanted.items() for c, v in cells.items()},
                        frozenset((1, c) for c, _ in header_added))
    return join_sheet(root, chunks), appended, header_added


_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+[0-9]+)(?::([A-Z]+[0-9]+))?"\s*/>')


def _splice(xml: bytes, part: str, log: LogAppend, styles: StyleBook, date1904: bool, shared, tables):
    """The common case without re-writing the log: the sheet ends with a row holding values,
    so the new rows' XML goes right before </sheetData>, a missing header goes into row 1,
    and every other byte stays (a 500,000-row log is not re-written).  None when that
    does not hold (the streaming path then does it)."""
    end = xml.find(b"</sheetData>")
    start = xml.rfind(b"<row ", 0, end)
    if end < 0 or start < 0 or xml.count(b"</sheetData>") != 1 or xml.find(b"<sheetData", 0, start) < 0:
        return None
    for table in tables.values():
        if int(table.get("totalsRowCount", "0") or 0):
            raise PackageError("log_table_totals", table.get("name", ""))
    headers, _ = _header_row(xml, part, shared)
    last_column = _last_column(xml)
    if last_column is None:
        return None
    places, header_added = _place(log, headers, max(last_column, max(headers, default=0)))
    row = _lone_row(xml[start:end])
    if row is None or not any(child.tag in _VALUE_TAGS for cell in row.iterchildren(_C) for child in cell):
        return None          # formatted empty rows below the data: the streaming path fills them
    first = int(row.get("r")) + 1
    if first == 2 and header_added:
        return None          # only a header row: nothing to gain
    styles_above = {column_of(c): c.get("s") for c in row.iterchildren(_C) if c.get("s")}
    wanted = _wanted(log, places, first)
    edits = []
    if header_added:
        head_start = xml.find(b"<row ")
        head_end = xml.find(b"</row>", head_start) + len(b"</row>")
        header = _lone_row(xml[head_start:head_end])
        if header is None or header.get("r") != "1":
            return None
        _Writer({}, {}, {}, styles, date1904)._fill(header, 1, {c: ("text", h) for c, h in header_added},
                                                    header=True)
        edits.append((head_start, head_end, _rows_bytes([header])))
    writer = _Writer(wanted, {}, styles_above, styles, date1904)
    rows = []
    for r in sorted(wanted):
        rows.append(etree.Element(_ROW, r=str(r)))
        writer._fill(rows[-1], r, wanted[r])
    edits.append((end, end, _rows_bytes(rows)))
    match = _DIMENSION.search(xml, 0, xml.find(b"<sheetData"))
    if match:
        top, bottom = match.group(1).decode(), (match.group(2) or match.group(1)).decode()
        column, row_number = split_ref(bottom)
        grown = f"{column_letters(max(column, max(places.values())))}{max(row_number, first + len(log.rows) - 1)}"
        edits.append((match.start(), match.end(), f'<dimension ref="{top}:{grown}"/>'.encode()))
    edits.sort()
    cells = {(r, c): v for r, row_cells in wanted.items() for c, v in row_cells.items()}
    appended = Appended(part, xml, first, cells, frozenset((1, c) for c, _ in header_added), (), tuple(edits),
                        {c: h for c, h in header_added})
    return _apply(xml, edits), appended, header_added


_CELL_TAG = re.compile(rb"<c[\s>/]")
_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]{1,3})[0-9]+"')


def _last_column(xml: bytes) -> int | None:
    """The last column any cell is in, from the cells' references; None when some cell has none."""
    letters = set(_CELL_REF.findall(xml))
    if sum(1 for _ in _CELL_TAG.finditer(xml)) != sum(1 for _ in _CELL_REF.finditer(xml)):
        return None
    return max((column_number(c.decode()) for c in letters), default=0)


def _lone_row(data: bytes):
    try:
        holder = etree.fromstring(b'<sheetData xmlns="%s">' % NS_MAIN.encode() + data + b"</sheetData>")
    except etree.XMLSyntaxError:
        return None
    if len(holder) != 1 or holder[0].tag != _ROW or holder[0].get("r") is None:
        return None
    return holder[0]


def _rows_bytes(rows) -> bytes:
    """Rows serialised as they sit inside the sheet's <sheetData> (main namespace as default)."""
    holder = etree.Element(M + "sheetData", nsmap={None: NS_MAIN})
    holder.extend(rows)
    data = etree.tostring(holder, encoding="UTF-8")
    return data[data.index(b">") + 1:data.rindex(b"</")]


def _same_apart_from(new: bytes, original: bytes, edits) -> bool:
    """``new`` is ``original`` with ``edits`` applied (compared in place, no copies)."""
    new_view, old_view = memoryview(new), memoryview(original)
    at_new = at_old = 0
    for start, end, replacement in edits:
        length = start - at_old
        if new_view[at_new:at_new + length] != old_view[at_old:start]:
            return False
        at_new += length
        if new_view[at_new:at_new + len(replacement)] != replacement:
            return False
        at_new, at_old = at_new + len(replacement), end
    return new_view[at_new:] == old_view[at_old:]


def _apply(original: bytes, edits) -> bytes:
    out, at = [], 0
    for start, end, replacement in edits:
        out += [original[at:start], replacement]
        at = end
    return b"".join([*out, original[at:]])


def _wanted(log: LogAppend, places: dict[str, int], first: int) -> dict[int, dict[int, tuple[str, object]]]:
    wanted = {}
    for offset, row in enumerate(log.rows):
        cells = {}
        for name, column in places.items():
            value = row.get(name)
            if value is not None and not is_missing(value) and value != "":
                cells[column] = (KINDS.get(name, "text"), value)
        wanted[first + offset] = cells
    return wanted


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


def _place(log: LogAppend, headers: dict[int, str], last_used: int):
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


class _Writer:
    """Writes the new rows' cells as the log streams past (writeback.stream)."""

    def __init__(self, wanted, headers, styles_above, styles, date1904):
        self.wanted, self.headers = wanted, headers
        self.styles_above, self.styles, self.date1904 = styles_above, styles, date1904
        self._pending = sorted(wanted)

    def start(self, root) -> None:
        pass

    def row(self, row, r: int) -> None:
        if r == 1 and self.headers:
            self._fill(row, 1, {c: ("text", h) for c, h in self.headers.items()}, header=True)
            self.headers = {}
        while self._pending and self._pending[0] < r:
            created = etree.Element(_ROW, r=str(self._pending[0]))
            row.addprevious(created)
            self._fill(created, self._pending[0], self.wanted[self._pending.pop(0)])
        if self._pending and self._pending[0] == r:
            self._fill(row, r, self.wanted[self._pending.pop(0)])

    def end(self, sheet_data) -> None:
        if self.headers:       # no row 1 at all: the sheet had no headers
            created = etree.Element(_ROW, r="1")
            sheet_data.insert(0, created)
            self._fill(created, 1, {c: ("text", h) for c, h in self.headers.items()}, header=True)
        for r in self._pending:
            created = etree.SubElement(sheet_data, _ROW, r=str(r))
            self._fill(created, r, self.wanted[r])
        self._pending = []

    def _fill(self, row, r: int, cells: dict, header: bool = False) -> None:
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


# --- a register without a follow-up sheet -------------------------------------------------

def _into_new_sheet(package: Package, log: LogAppend, styles: StyleBook, date1904: bool,
                    replaced: dict[str, bytes], added: dict[str, bytes]) -> Appended:
    workbook = next((t for k, t in package.relationships("").values() if k.endswith("/officeDocument")),
                    "xl/workbook.xml")
    folder = workbook.rpartition("/")[0]
    names = {info.filename for info in package.infos}
    number = 1
    while f"{folder}/worksheets/sheet{number}.xml" in names:
        number += 1
    part = f"{folder}/worksheets/sheet{number}.xml"
    headers = {i + 1: h for i, (_, h) in enumerate(log.headers)}
    skeleton = _empty_sheet(headers)
    xml, appended, _ = _append(skeleton, part, log, styles, date1904,
                               lambda wanted: {}, {})
    added[part] = xml
    rels_part = f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels"
    rels = package.xml(rels_part)
    taken = {r.get("Id") for r in rels}
    rel_id = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
    etree.SubElement(rels, "{%s}Relationship" % NS_PKG_REL, Id=rel_id, Type=SHEET_TYPE,
                     Target=f"worksheets/sheet{number}.xml")
    replaced[rels_part] = serialize_xml(rels)
    book = package.xml(workbook)
    sheets = book.find(M + "sheets")
    sheet_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
    etree.SubElement(sheets, M + "sheet", {"name": log.sheet, "sheetId": str(sheet_id),
                                           "{%s}id" % NS_DOC_REL: rel_id})
    replaced[workbook] = serialize_xml(book)
    types = package.xml("[Content_Types].xml")
    ns = types.tag.partition("}")[0] + "}"
    etree.SubElement(types, ns + "Override", PartName=f"/{part}", ContentType=SHEET_CONTENT)
    replaced["[Content_Types].xml"] = serialize_xml(types)
    return Appended(part, None, appended.first_row, appended.cells, appended.header_cells, (part,))


def _empty_sheet(headers: dict[int, str]) -> bytes:
    """A worksheet with the header row (bold is not ours to invent: plain text), top row frozen."""
    root = etree.Element(M + "worksheet", nsmap={None: NS_MAIN, "r": NS_DOC_REL})
    etree.SubElement(root, M + "dimension", ref="A1")
    views = etree.SubElement(etree.SubElement(root, M + "sheetViews"), M + "sheetView", workbookViewId="0")
    etree.SubElement(views, M + "pane", ySplit="1", topLeftCell="A2", activePane="bottomLeft", state="frozen")
    etree.SubElement(root, M + "sheetFormatPr", defaultRowHeight="15")
    cols = etree.SubElement(root, M + "cols")
    for index in headers:
        etree.SubElement(cols, M + "col", min=str(index), max=str(index), width="12", customWidth="1")
    data = etree.SubElement(root, M + "sheetData")
    row = etree.SubElement(data, _ROW, r="1")
    for index, header in headers.items():
        cell = etree.SubElement(row, _C, r=f"{column_letters(index)}1", t="inlineStr")
        etree.SubElement(etree.SubElement(cell, _IS), M + "t").text = header
    etree.SubElement(root, M + "pageMargins", left="0.7", right="0.7", top="0.75", bottom="0.75",
                     header="0.3", footer="0.3")
    return serialize_xml(root)


# --- verify ----------------------------------------------------------------------------

def check_appended(new: Package, appended: Appended, date1904: bool) -> str | None:
    """None when the log reads back right: original rows as they were, new cells as meant;
    else where it differs ('H7', or '7:7' for a row).  Streams both versions side by side."""
    if appended.splice is not None:
        return _check_splice(new.read(appended.part), appended, date1904)
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


def _check_splice(xml: bytes, appended: Appended, date1904: bool) -> str | None:
    """The new part is the old one with only the spliced bytes changed, byte for byte; the
    spliced rows, parsed afresh, hold what was meant (header cells included)."""
    if not _same_apart_from(xml, appended.original, appended.splice):
        return f"{appended.first_row - 1}:{appended.first_row - 1}"
    meant = {**appended.cells, **{(1, c): ("text", h) for c, h in (appended.headers or {}).items()}}
    seen = 0
    for start, end, replacement in appended.splice:
        if not replacement.startswith(b"<row"):
            continue
        if start != end:        # row 1 re-written with the added headers: the staff's cells as they were
            before, after = _lone_row(appended.original[start:end]), _lone_row(replacement)
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
