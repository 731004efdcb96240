"""统计's monthly customer trend: bought, bought again, bought once and left, never
contacted (``figures.customer_trend``), as a table with its definitions and a line chart.

A month whose "bought once and left" cannot be known yet is left empty (the line stops
there rather than dropping to 0), and the running month is labelled 本月至今.
"""
from __future__ import annotations

from pipeline.messages import text
from pipeline.rules.figures import ONCE_LEFT_DAYS

SERIES = ("bought", "bought_again", "once_left", "never_contacted")
COLOURS = ("#4472C4", "#70AD47", "#C00000", "#7F7F7F")
CHART_COLUMN = 6


def write_trend(workbook, sheet, row: int, trend: list[dict], f: dict) -> int:
    """The trend from ``row`` (0-based); returns the row after it."""
    if not trend:
        return row
    title = text("sheets.trend.title")
    sheet.write_string(row, 0, title, f["title"])
    sheet.merge_range(row + 1, 0, row + 1, CHART_COLUMN - 1,
                      text("sheets.trend.note", days=ONCE_LEFT_DAYS), f["wrap"])
    sheet.set_row(row + 1, 50)
    head = row + 2
    for col, key in enumerate(("month", *SERIES)):
        sheet.write_string(head, col, text(f"sheets.trend.{key}"), f["header"])
    for r, month in enumerate(trend, start=head + 1):
        label = text("sheets.month.to_date", month=month["month"]) if month["to_date"] \
            else month["month"]
        sheet.write_string(r, 0, label)
        for col, key in enumerate(SERIES, start=1):
            if month[key] is not None:
                sheet.write_number(r, col, month[key])
    first, last = head + 1, head + len(trend)
    chart = workbook.add_chart({"type": "line"})
    for col, (key, colour) in enumerate(zip(SERIES, COLOURS), start=1):
        chart.add_series({"name": [sheet.name, head, col],
                          "categories": [sheet.name, first, 0, last, 0],
                          "values": [sheet.name, first, col, last, col],
                          "line": {"color": colour, "width": 2.25},
                          "marker": {"type": "circle", "size": 5,
                                     "fill": {"color": colour}, "border": {"color": colour}}})
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 620, "height": 340})
    sheet.insert_chart(row, CHART_COLUMN, chart)
    return max(last + 1, row + 18)
