"""How the customer sheet looks while staff work in it: filter buttons, frozen name, due colours.

Three small, additive edits of the sheet's skeleton, each made once and never against
a choice the staff made:

- the sheet's own AutoFilter (``<autoFilter ref>``, not a table's) grows over the
  computed columns when they start right after it (or inside it), so 流失风险 = 高
  is one click; its rows and the staff's filter criteria stay as they are;
- when nothing is frozen yet, or only rows are, the columns through 客户名称 are
  frozen too (plus the header row when no row was frozen), so scrolling right to the
  computed columns keeps the customer's name; a pane that already has columns
  (xSplit) or a plain split (not frozen) is the staff's and is left alone;
- LibreOffice takes a sheet's filter range from the hidden defined name
  _xlnm._FilterDatabase, so that name's range grows with the filter (``grow_filter_name``;
  the only bytes of workbook.xml that change);
- 下次跟进 is coloured against TODAY() by conditional formatting (overdue red, due
  today orange), so the colours stay right when the file is opened days later.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

from lxml import etree

from pipeline import schema
from pipeline.writeback.colours import LAST_ROW, ORANGE, RED, insert_conditional
from pipeline.writeback.package import M, PackageError, column_letters, split_ref
from pipeline.writeback.styles import StyleBook

_NAME = next(f for f in schema.CUSTOMERS.fields if f.name == "name")
NAME_HEADERS = {h.casefold() for h in (_NAME.header, _NAME.traditional, _NAME.name)}
_DUE = next(f for f in schema.COMPUTED if f.name == "next_follow_up")
DUE_HEADERS = {_DUE.header, _DUE.traditional}
# Freezing more columns than this would fill a laptop screen: then only the header row.
MAX_FROZEN_COLUMNS = 4


def improve_view(root: etree._Element, headers: dict[int, str],
                 placed: list[tuple[str, int]], styles: StyleBook) -> None:
    """All three edits; ``headers`` is row 1 as read (column -> text), ``placed`` the
    computed columns (header, column)."""
    indexes = [index for _, index in placed]
    if indexes:
        extend_auto_filter(root, min(indexes), max(indexes))
    name = next((index for index, text in sorted(headers.items())
                 if text.strip().casefold() in NAME_HEADERS), None)
    freeze_through(root, name)
    for header, index in placed:
        if header in DUE_HEADERS:
            add_due_colours(root, index, styles)


def extend_auto_filter(root: etree._Element, first: int, last: int) -> None:
    """Widen the sheet's AutoFilter to column ``last`` when the computed block
    (``first``..``last``) starts right after it or inside it."""
    auto_filter = root.find(M + "autoFilter")
    if auto_filter is None:
        return
    start, _, stop = auto_filter.get("ref", "").partition(":")
    try:
        start_column, start_row = split_ref(start)
        end_column, end_row = split_ref(stop or start)
    except PackageError:        # a filter we cannot read is left as it is
        return
    if start_row != 1 or last <= end_column or first > end_column + 1 or first < start_column:
        return
    auto_filter.set("ref", f"{start}:{column_letters(last)}{end_row}")


def freeze_through(root: etree._Element, name_column: int | None) -> None:
    """Freeze columns A..客户名称 (and row 1 when no row is frozen) in each sheet view
    that has no frozen columns and no staff split; only row 1 when 客户名称 is missing
    or further right than MAX_FROZEN_COLUMNS."""
    columns = name_column if name_column and name_column <= MAX_FROZEN_COLUMNS else 0
    for view in root.iterfind(f"{M}sheetViews/{M}sheetView"):
        pane = view.find(M + "pane")
        if pane is not None and (pane.get("xSplit") not in (None, "0") or not columns
                                 or pane.get("state") not in ("frozen", "frozenSplit")):
            continue
        if pane is None and view.get("topLeftCell") not in (None, "A1"):
            continue            # scrolled away: a frozen pane would hide the rows above
        rows = int(float(pane.get("ySplit", "0"))) if pane is not None else 0
        _freeze(view, pane, columns, rows or 1)


def _freeze(view: etree._Element, pane, columns: int, rows: int) -> None:
    corner = f"{column_letters(columns + 1)}{rows + 1}"
    panes = ("topRight", "bottomLeft", "bottomRight") if columns else ("bottomLeft",)
    if pane is None:
        pane = etree.Element(M + "pane")
        view.insert(0, pane)
    for name in ("xSplit", "ySplit", "topLeftCell", "activePane", "state"):
        pane.attrib.pop(name, None)
    if columns:
        pane.set("xSplit", str(columns))
    pane.set("ySplit", str(rows))
    pane.set("topLeftCell", corner)
    pane.set("activePane", panes[-1])
    pane.set("state", "frozen")
    # One selection per pane, as Excel writes them; the staff's bottomLeft one is kept.
    selections = {s.get("pane", "topLeft"): s for s in view.iterfind(M + "selection")}
    for s in list(view.iterfind(M + "selection")):
        if s.get("pane", "topLeft") != "bottomLeft":
            view.remove(s)
    defaults = {"topRight": f"{column_letters(columns + 1)}1",
                "bottomLeft": f"A{rows + 1}", "bottomRight": corner}
    after = pane
    for name in panes:
        selection = selections.get(name) if name == "bottomLeft" else None
        if selection is None:
            cell = defaults[name]
            selection = etree.Element(M + "selection", pane=name, activeCell=cell, sqref=cell)
        after.addnext(selection)
        after = selection


def add_due_colours(root: etree._Element, index: int, styles: StyleBook) -> None:
    """下次跟进 before today red, today orange; blank cells uncoloured. Added once."""
    letter = column_letters(index)
    sqref = f"{letter}2:{letter}{LAST_ROW}"
    cell = f"{letter}2"
    wanted = ((f"AND(ISNUMBER({cell}),{cell}<TODAY())", RED),
              (f"AND(ISNUMBER({cell}),{cell}=TODAY())", ORANGE))
    for cf in root.iterfind(M + "conditionalFormatting"):
        formulas = tuple(r.findtext(M + "formula") for r in cf.iterfind(M + "cfRule"))
        if cf.get("sqref") == sqref and formulas == tuple(f for f, _ in wanted):
            return
    priority = _highest_priority(root)
    block = etree.Element(M + "conditionalFormatting", sqref=sqref)
    for formula, (font, fill) in wanted:
        priority += 1
        rule = etree.SubElement(block, M + "cfRule", type="expression",
                                dxfId=str(styles.dxf(font, fill)), priority=str(priority))
        etree.SubElement(rule, M + "formula").text = formula
    insert_conditional(root, block)


def _highest_priority(root: etree._Element) -> int:
    # Priorities are shared with the x14 rules in extLst.
    rules = list(root.iterfind(f"{M}conditionalFormatting/{M}cfRule"))
    extensions = root.find(M + "extLst")
    if extensions is not None:
        rules += list(extensions.iter("{*}cfRule"))
    return max((int(p) for p in (r.get("priority", "") for r in rules) if p.isdigit()), default=0)


_FILTER = re.compile(rb'<(?:\w+:)?autoFilter\b[^>]*?\bref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def grown_log_filter(ref: str, first_new_row: int, last_row: int, last_column: int) -> str | None:
    """A sheet filter over the follow-up log, grown over appended rows ``first_new_row``..
    ``last_row`` (and a new column right after it); None when it does not reach the log's
    last row (a filter over part of the sheet is the staff's choice) or needs no change."""
    start, _, stop = ref.partition(":")
    try:
        start_column, start_row = split_ref(start)
        end_column, end_row = split_ref(stop or start)
    except PackageError:
        return None
    if start_row != 1 or end_row < first_new_row - 1 or end_row >= last_row:
        return None
    if last_column == end_column + 1:
        end_column = last_column
    return f"{start}:{column_letters(end_column)}{last_row}"


def grow_log_filter_element(root: etree._Element, first_new_row: int, last_row: int, last_column: int) -> None:
    """The same, on a parsed sheet (the streamed append)."""
    auto_filter = root.find(M + "autoFilter")
    grown = grown_log_filter(auto_filter.get("ref", ""), first_new_row, last_row, last_column) \
        if auto_filter is not None else None
    if grown:
        auto_filter.set("ref", grown)


def grow_log_filter_bytes(xml: bytes, after: int, first_new_row: int, last_row: int,
                          last_column: int) -> tuple[int, int, bytes] | None:
    """The same as a byte edit (start, end, replacement) of the filter's ref, searched from
    ``after`` (the end of sheetData): the spliced append's way."""
    match = _FILTER.search(xml, after)
    if not match:
        return None
    grown = grown_log_filter(match.group(1).decode(), first_new_row, last_row, last_column)
    return (match.start(1), match.end(1), grown.encode()) if grown else None


def filter_range(sheet_xml: bytes) -> str | None:
    """The sheet's own AutoFilter range (it follows sheetData, so only the tail is searched)."""
    tail = sheet_xml[sheet_xml.rfind(b"sheetData>"):]
    match = _FILTER.search(tail)
    return match.group(1).decode() if match else None


def grow_filter_name(package, sheet_name: str, old_sheet: bytes,
                     new_sheet: bytes, replaced: dict[str, bytes] | None = None) -> tuple[str, bytes] | None:
    """workbook.xml with the sheet's _xlnm._FilterDatabase over the grown filter range, as
    (part, bytes); None when the filter did not grow or the name is not one we can
    rewrite exactly (then Excel still uses the sheet's own range).  ``replaced`` holds
    the parts already rewritten: another sheet's filter name may have grown before."""
    old, new = filter_range(old_sheet), filter_range(new_sheet)
    if not old or not new or old == new:
        return None
    book = next((target for kind, target in package.relationships("").values()
                 if kind.endswith("/officeDocument")), "xl/workbook.xml")
    data = (replaced or {}).get(book) or package.read(book)
    root = package.xml(book)
    names = [sheet.get("name") for sheet in root.iter(M + "sheet")]
    if sheet_name not in names:
        return None
    index = str(names.index(sheet_name))
    for name in root.iter(M + "definedName"):
        if name.get("name") == "_xlnm._FilterDatabase" and name.get("localSheetId") == index:
            before = name.text or ""
            old_abs, new_abs = _absolute(old), _absolute(new)
            if not before.endswith("!" + old_abs):
                return None
            after = before[:-len(old_abs)] + new_abs
            wanted = f">{escape(before)}<".encode()
            if data.count(wanted) != 1:
                return None
            return book, data.replace(wanted, f">{escape(after)}<".encode())
    return None


def _absolute(ref: str) -> str:
    return ":".join(re.sub(r"([A-Z]+)([0-9]+)", r"$\1$\2", part) for part in ref.split(":"))
