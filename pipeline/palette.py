"""The colours a rep scans for, shared by the register and the report.

One palette, so 高 is the same red and 中 the same orange in the register's
conditional formats (writeback.colours, writeback.view) and in every report sheet
and chart.  Each entry is (text colour, background) as ARGB hex, the form the
register's styles.xml wants; ``html`` gives the #RRGGBB form xlsxwriter wants.
"""
from __future__ import annotations

RED, ORANGE = ("FF9C0006", "FFFFC7CE"), ("FF833C0B", "FFF8CBAD")
YELLOW, BLUE, GREY = ("FF9C5700", "FFFFEB9C"), ("FF1F4E78", "FFDDEBF7"), ("FF595959", "FFE7E6E6")
GRADE_COLOURS = {"A": RED, "B": ORANGE, "C": YELLOW, "D": BLUE, "E": GREY}
RISK_COLOURS = {"高": RED, "中": ORANGE}
OVERDUE, DUE_TODAY = RED, ORANGE
# Chart fills: a strong red / orange read at a glance on a bar (the backgrounds are too pale).
CHART_HIGH, CHART_MEDIUM = "#C00000", "#ED7D31"


def html(argb: str) -> str:
    """'FF9C0006' -> '#9C0006'."""
    return "#" + argb[-6:]
