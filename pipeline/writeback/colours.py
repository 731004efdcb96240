"""Colours a rep can scan in the register: conditional formats on the computed columns.

Grades A-E, overdue days and churn risk get a background colour through conditional
formatting, so a value a rep overwrites recolours itself and staff formatting of the
cells is untouched.  The rules cover the column from row 2 to the sheet's end, so the
same rule stays valid as customers are added; a later run recognises its own rules
by range and formulas and adds nothing.
"""
from __future__ import annotations

from lxml import etree

from pipeline.palette import BLUE, GREY, ORANGE, RED, YELLOW   # shared with the report
from pipeline.writeback.package import M, column_letters
from pipeline.writeback.styles import StyleBook

LAST_ROW = 1048576
# header -> (operator, formula, (text colour, background)): what a rep scans for first.
HIGHLIGHTS: dict[str, tuple[tuple[str, str, tuple[str, str]], ...]] = {
    "等级": (("equal", '"A"', RED), ("equal", '"B"', ORANGE), ("equal", '"C"', YELLOW),
           ("equal", '"D"', BLUE), ("equal", '"E"', GREY)),
    "逾期天数": (("greaterThan", "0", RED),),
    "流失风险": (("equal", '"高"', RED), ("equal", '"中"', ORANGE)),
}
# CT_Worksheet children that must come after <conditionalFormatting>.
_AFTER_CONDITIONAL = {"dataValidations", "hyperlinks", "printOptions", "pageMargins",
                      "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
                      "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                      "legacyDrawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                      "tableParts", "extLst", "AlternateContent"}


def add_highlights(root: etree._Element, columns: list[tuple[str, int]],
                   styles: StyleBook) -> None:
    """Colour rules for grade, overdue and churn columns, added once per column."""
    present = {(cf.get("sqref"), tuple((rule.get("operator"), rule.findtext(M + "formula"))
                                       for rule in cf.iterfind(M + "cfRule")))
               for cf in root.iterfind(M + "conditionalFormatting")}
    # Priorities are shared with the x14 rules in extLst; the sheet data is not searched.
    rules = list(root.iterfind(f"{M}conditionalFormatting/{M}cfRule"))
    extensions = root.find(M + "extLst")
    if extensions is not None:
        rules += list(extensions.iter("{*}cfRule"))
    priorities = [int(p) for p in (rule.get("priority", "") for rule in rules) if p.isdigit()]
    priority = max(priorities, default=0)
    for header, index in sorted(columns, key=lambda c: c[1]):
        rules = HIGHLIGHTS.get(header)
        if not rules:
            continue
        letter = column_letters(index)
        sqref = f"{letter}2:{letter}{LAST_ROW}"
        if (sqref, tuple((op, formula) for op, formula, _ in rules)) in present:
            continue
        block = etree.Element(M + "conditionalFormatting", sqref=sqref)
        for operator, formula, (font, fill) in rules:
            priority += 1
            rule = etree.SubElement(block, M + "cfRule", type="cellIs",
                                    dxfId=str(styles.dxf(font, fill)),
                                    priority=str(priority), operator=operator)
            etree.SubElement(rule, M + "formula").text = formula
        insert_conditional(root, block)


def insert_conditional(root: etree._Element, block: etree._Element) -> None:
    """Put a <conditionalFormatting> block where the schema's element order wants it."""
    existing = root.findall(M + "conditionalFormatting")
    if existing:
        existing[-1].addnext(block)
        return
    for child in root:
        if isinstance(child.tag, str) and etree.QName(child).localname in _AFTER_CONDITIONAL:
            child.addprevious(block)
            return
    root.append(block)
