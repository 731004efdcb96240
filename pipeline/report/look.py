"""The register's colours in the report: the same palette (pipeline.palette), as
xlsxwriter conditional formats, so a rep sees A red, 逾期 red and 高 red whichever
file is open, and a value typed over in the report recolours itself.

``colour_columns`` takes the sheet, the data rows and where each kind of column is
(grade, overdue days, churn risk, next follow-up, 顺延); columns that are absent are
skipped.  Next follow-up is coloured against TODAY(), as in the register.
"""
from __future__ import annotations

import math
import weakref

from xlsxwriter.utility import xl_rowcol_to_cell

from pipeline.messages import text
from pipeline.palette import DUE_TODAY, GRADE_COLOURS, GREY, OVERDUE, RISK_COLOURS, html


def fill(book, colours: tuple[str, str], **extra):
    """A format with the palette entry's text colour and background."""
    return book.add_format({"font_color": html(colours[0]), "bg_color": html(colours[1]), **extra})


REGISTER_WORDS = ("高", "中", "低", "潜在", "现实", "流失")


def report_word(value):
    """A register word (流失风险 高, 客户状态 潜在…) as the report's own sheets say it in the
    configured language; any other value as it is."""
    return text(f"words.{value}") if value in REGISTER_WORDS else value


def colour_columns(book, sheet, first_row: int, last_row: int, columns: dict[str, int],
                   postponed: str = "", word=lambda value: value) -> None:
    """Conditional colours over rows first_row..last_row (0-based) of the named columns;
    ``word`` says a 流失风险 level as the sheet writes it (the register's word by default)."""
    if last_row < first_row:
        return
    formats = _formats(book)

    def rule(col: int, **options) -> None:
        sheet.conditional_format(first_row, col, last_row, col, options)

    if "grade" in columns:
        for grade, colours in GRADE_COLOURS.items():
            rule(columns["grade"], type="cell", criteria="==", value=f'"{grade}"',
                 format=formats[colours])
    if "overdue_days" in columns:
        rule(columns["overdue_days"], type="cell", criteria=">", value=0,
             format=formats[OVERDUE])
    if "churn_risk" in columns:
        for level, colours in RISK_COLOURS.items():
            rule(columns["churn_risk"], type="cell", criteria="==", value=f'"{word(level)}"',
                 format=formats[colours])
    if "next_follow_up" in columns:
        col = columns["next_follow_up"]
        cell = _a1(first_row, col)
        rule(col, type="formula", criteria=f"=AND(ISNUMBER({cell}),{cell}<TODAY())",
             format=formats[OVERDUE])
        rule(col, type="formula", criteria=f"=AND(ISNUMBER({cell}),{cell}=TODAY())",
             format=formats[DUE_TODAY])
    if "plan" in columns and postponed:
        rule(columns["plan"], type="cell", criteria="==", value=f'"{postponed}"',
             format=formats[GREY])


_FORMATS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _formats(book) -> dict:
    """One format per palette entry and workbook, made on the workbook's first use."""
    if book not in _FORMATS:
        _FORMATS[book] = {colours: fill(book, colours) for colours in
                          (*GRADE_COLOURS.values(), *RISK_COLOURS.values(), OVERDUE, DUE_TODAY, GREY)}
    return _FORMATS[book]


def _a1(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col)



def lines_needed(text: str, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (a Chinese character
    draws about 1.75 digits wide), at most 12."""
    room = max(width - 1, 4)
    if len(text) * 1.75 <= room and "\n" not in text:
        return 1                # the common short reason, without measuring it
    units = (sum(1.75 if ord(ch) > 0x2E80 else 1 for ch in part) for part in text.split("\n"))
    return min(12, sum(max(1, math.ceil(u / room)) for u in units))


def printable(sheet, header_row: int | None = 0, fit_width: bool = True) -> None:
    """A4 landscape, the header row (0-based; None: none) repeated on every page, and
    (``fit_width``) every column on one page's width: what the shop gets when it prints."""
    sheet.set_paper(9)
    sheet.set_landscape()
    if header_row is not None:
        sheet.repeat_rows(header_row)
    if fit_width:
        sheet.fit_to_pages(1, 0)
