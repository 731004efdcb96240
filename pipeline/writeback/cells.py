"""Cell values as Excel stores them: typed numbers, inline strings, styles by value kind.

One computed cell at a time: keep the staff-chosen style unless the value needs another
number format (StyleBook decides), write dates as serials and text as an inline string
escaped the way Excel does, and reuse the cell's existing <v> or <is><t> when it
already has that shape (as it does from the second night on).
"""
from __future__ import annotations

import datetime as dt
import math
import re

from lxml import etree

from pipeline.writeback.package import M
from pipeline.writeback.styles import StyleBook

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_V, _IS, _T = M + "v", M + "is", M + "t"
_VALUE_TAGS = {_V, M + "f", _IS}


def clear(cell: etree._Element) -> None:
    """Empty a computed cell but keep its style (a bare cell is dropped)."""
    _clear_value(cell)
    if set(cell.attrib) == {"r"} and len(cell) == 0:
        cell.getparent().remove(cell)


def set_value(cell, kind: str, value, styles: StyleBook, date1904: bool) -> None:
    # Hot path (runs for every computed cell of every customer): reuse the existing
    # <v> or <is><t> when the cell already has that shape, as it does after the first night.
    _restyle(cell, kind, styles)
    if kind == "text":
        set_text(cell, str(value))
        return
    number = _number_text(kind, value, date1904)
    if len(cell) == 1 and cell[0].tag == _V and cell.get("t") is None and \
            cell.get("cm") is None and cell.get("vm") is None:
        cell[0].text = number
        return
    _clear_value(cell)
    etree.SubElement(cell, _V).text = number


def fill_new(cell, kind: str, value, styles: StyleBook, date1904: bool) -> None:
    """set_value for a cell just created (no value yet): same result, less work."""
    _restyle(cell, kind, styles)
    if kind == "text":
        cell.set("t", "inlineStr")
        _fill_text(etree.SubElement(etree.SubElement(cell, _IS), _T), str(value))
    else:
        etree.SubElement(cell, _V).text = _number_text(kind, value, date1904)


def _restyle(cell, kind: str, styles: StyleBook) -> None:
    current = cell.get("s")
    style = styles.style_attr(current, kind)
    if style != current:
        cell.set("s", style)


def _clear_value(cell: etree._Element) -> None:
    for child in list(cell):
        if child.tag in _VALUE_TAGS:
            cell.remove(child)
    for attribute in ("t", "cm", "vm"):
        cell.attrib.pop(attribute, None)


def set_text(cell: etree._Element, text: str) -> None:
    node = None
    if cell.get("t") == "inlineStr" and len(cell) == 1 and cell[0].tag == _IS and \
            len(cell[0]) == 1 and cell[0][0].tag == _T and cell.get("cm") is None:
        node = cell[0][0]
    else:
        _clear_value(cell)
        cell.set("t", "inlineStr")
        node = etree.SubElement(etree.SubElement(cell, _IS), _T)
    _fill_text(node, text)


def _fill_text(node: etree._Element, text: str) -> None:
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


def is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NaTType", "NAType")


