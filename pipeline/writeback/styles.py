"""The register's styles.xml, grown only by appending: number formats, cell styles, dxfs.

Cells the pipeline overwrites keep their staff-chosen style (font, border, fill) unless
the value needs another number format (a date must look like a date, a share like a
percentage); then a copy of that style with the right format is appended.  Existing
entries never change, so every other cell in the workbook looks exactly as before.
Appending looks for an identical entry first, so nightly runs do not pile up styles.
"""
from __future__ import annotations

import copy
import re

from lxml import etree
from openpyxl.styles.numbers import is_date_format

from pipeline.writeback.package import M

DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT_ID = 9        # built-in "0%"
MONEY_FORMAT_ID = 4          # built-in "#,##0.00"
FIRST_CUSTOM_FORMAT_ID = 164

# Built-in date/time formats, including the East Asian ones (27-36, 50-58) that
# Chinese Excel writes for 年月日 dates and that openpyxl's table does not list.
_BUILTIN_DATES = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_BUILTIN_PERCENT = {9, 10}
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')

# CT_Stylesheet child order: a missing list is created in its proper place.
_STYLESHEET_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs",
                     "cellStyles", "dxfs", "tableStyles", "colors", "extLst"]


class StyleBook:
    """styles.xml in memory; ``changed`` says whether anything was appended."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.changed = False
        self._formats = {int(f.get("numFmtId", "0")): f.get("formatCode", "")
                         for f in root.iterfind(f"{M}numFmts/{M}numFmt")}
        self._derived: dict[tuple[int, int], int] = {}
        self._decided: dict[tuple[str | None, str], str | None] = {}

    def to_bytes(self) -> bytes:
        from pipeline.writeback.package import serialize_xml
        return serialize_xml(self.root)

    def format_kind(self, style: int | None) -> str:
        """'general', 'text', 'date', 'percent' or 'number' for a cell's s attribute."""
        xfs = self.root.find(M + "cellXfs")
        if style is None or xfs is None or style >= len(xfs):
            style = 0
        if xfs is None or len(xfs) == 0:
            return "general"
        format_id = int(xfs[style].get("numFmtId", "0"))
        code = self._formats.get(format_id, "")
        plain = _QUOTED.sub("", code)
        if format_id == 0 and not code:
            return "general"
        if format_id == 49 or plain.strip() == "@":
            return "text"
        if format_id in _BUILTIN_DATES or (code and is_date_format(code)):
            return "date"
        if format_id in _BUILTIN_PERCENT or "%" in plain:
            return "percent"
        return "number"

    def style_attr(self, current: str | None, kind: str) -> str | None:
        """The s attribute a cell of this value kind should get, given its current one."""
        key = (current, kind)
        if key not in self._decided:
            style = self.style_for(int(current) if current is not None else None, kind)
            self._decided[key] = current if style is None else str(style)
        return self._decided[key]

    def style_for(self, style: int | None, kind: str) -> int | None:
        current = self.format_kind(style)
        wanted: int | None = None
        if kind == "date" and current != "date":
            wanted = self.custom_format(DATE_FORMAT)
        elif kind == "percent" and current != "percent":
            wanted = PERCENT_FORMAT_ID
        elif kind == "money" and current != "number":
            wanted = MONEY_FORMAT_ID
        elif kind == "int" and current not in ("general", "number"):
            wanted = 0
        if wanted is None:
            return style
        return self._derived_style(style or 0, wanted)

    def custom_format(self, code: str) -> int:
        for format_id, existing in self._formats.items():
            if existing == code:
                return format_id
        format_id = max([FIRST_CUSTOM_FORMAT_ID - 1, *self._formats]) + 1
        formats = self._list("numFmts")
        etree.SubElement(formats, M + "numFmt", numFmtId=str(format_id), formatCode=code)
        formats.set("count", str(len(formats)))
        self._formats[format_id] = code
        self.changed = True
        return format_id

    def _derived_style(self, base: int, format_id: int) -> int:
        if (base, format_id) in self._derived:
            return self._derived[base, format_id]
        xfs = self._list("cellXfs")
        if len(xfs) == 0:
            etree.SubElement(xfs, M + "xf", numFmtId="0", fontId="0", fillId="0", borderId="0")
        source = xfs[base] if base < len(xfs) else xfs[0]
        wanted = copy.deepcopy(source)
        wanted.tail = None
        wanted.set("numFmtId", str(format_id))
        wanted.set("applyNumberFormat", "1")
        index = self._append_once(xfs, wanted)
        self._derived[base, format_id] = index
        return index

    def dxf(self, font_rgb: str, fill_rgb: str) -> int:
        """Index of a differential style (text colour + background) for conditional formats."""
        wanted = etree.Element(M + "dxf", nsmap={None: M[1:-1]})
        etree.SubElement(etree.SubElement(wanted, M + "font"), M + "color", rgb=font_rgb)
        pattern = etree.SubElement(etree.SubElement(wanted, M + "fill"), M + "patternFill")
        etree.SubElement(pattern, M + "bgColor", rgb=fill_rgb)
        return self._append_once(self._list("dxfs"), wanted)

    def _append_once(self, parent: etree._Element, wanted: etree._Element) -> int:
        key = _key(wanted)
        for index, existing in enumerate(parent):
            if _key(existing) == key:
                return index
        parent.append(wanted)
        parent.set("count", str(len(parent)))
        self.changed = True
        return len(parent) - 1

    def _list(self, name: str) -> etree._Element:
        found = self.root.find(M + name)
        if found is not None:
            return found
        created = etree.Element(M + name, count="0")
        later = _STYLESHEET_ORDER[_STYLESHEET_ORDER.index(name) + 1:]
        for position, child in enumerate(self.root):
            if etree.QName(child).localname in later:
                self.root.insert(position, created)
                break
        else:
            self.root.append(created)
        return created


def _key(element: etree._Element) -> bytes:
    """Compare entries by content, ignoring whitespace between child elements."""
    clone = copy.deepcopy(element)
    for node in clone.iter():
        node.tail = None
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
    return etree.tostring(clone, with_tail=False, method="c14n", exclusive=True)
