"""The report's 流失预警 and 统计 sheets (spec §4), written into an xlsxwriter Workbook.

流失预警 lists the customers at 高 or 中 churn risk, 高 first and then by what they
are expected to bring in over the next year, with their reasons one per line.  统计
shows the owner's figures (``state.figures``) as small tables, each with a native
Excel chart beside it where a picture helps (orders by month, customers per grade
and per state, churn risks per rep).  Sheet names and headers come from the message
file, so the report follows the configured language.

Both sheets stay (nearly) empty when the churn stages have not run on ``state`` (no
churn_risk column, no figures): the report of a partial pipeline still opens.
"""
from __future__ import annotations

import pandas as pd

from pipeline.messages import text
from pipeline.model import State
from pipeline.palette import CHART_HIGH, CHART_MEDIUM, RED, ORANGE, html
from pipeline.report import trend as report_trend
from pipeline.report.look import lines_needed, printable, report_word
from pipeline.rules.churn import HIGH, MEDIUM
from pipeline.rules.figures import LIFECYCLES, at_risk, counted
from pipeline.schema import GRADES

CHART_ROWS = 16          # rows a chart of the default size covers, plus a gap
CHART_COLUMN = 4         # charts sit from column E, right of the two- or three-column tables
MONEY, DATE, PERCENT = "#,##0.00", "yyyy-mm-dd", "0.0%"


def _formats(workbook) -> dict:
    return {
        "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                       "text_wrap": True, "valign": "top"}),
        "title": workbook.add_format({"bold": True, "font_size": 13}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "top": workbook.add_format({"valign": "top"}),
        "money": workbook.add_format({"num_format": MONEY, "valign": "top"}),
        "date": workbook.add_format({"num_format": DATE, "valign": "top"}),
        "percent": workbook.add_format({"num_format": PERCENT}),
        # The register's 高 red and 中 orange (pipeline.palette).
        "high": workbook.add_format({"bold": True, "font_color": html(RED[0]),
                                     "bg_color": html(RED[1]), "valign": "top"}),
        "medium": workbook.add_format({"font_color": html(ORANGE[0]), "bg_color": html(ORANGE[1]),
                                       "valign": "top"}),
    }


def write_churn_sheet(workbook, state: State):
    """Add the 流失预警 sheet; returns the worksheet."""
    sheet = workbook.add_worksheet(text("churn.sheet.risks"))
    f = _formats(workbook)
    keys = ("customer_id", "name", "contact", "phone", "rep", "level", "reasons", "value",
            "last_order", "last_contact")
    for col, (key, width) in enumerate(zip(keys, (12, 22, 10, 14, 10, 9, 56, 16, 12, 12))):
        name = text(f"sheets.churn.{key}") if key in ("contact", "phone") else text(f"churn.col.{key}")
        sheet.write_string(0, col, name, f["header"])
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    printable(sheet)
    if "churn_risk" not in state.customers.columns:
        return sheet
    rows = at_risk(*counted(state))
    if rows.empty:
        sheet.write_string(1, 0, text("churn.risks.none"))
        return sheet
    for r, c in enumerate(rows.itertuples(index=False), start=1):
        sheet.write_string(r, 0, str(c.customer_id), f["top"])
        sheet.write_string(r, 1, str(c.name), f["top"])
        sheet.write_string(r, 2, str(c.contact or ""), f["top"])
        sheet.write_string(r, 3, str(c.phone or ""), f["top"])
        sheet.write_string(r, 4, str(c.rep_label), f["top"])
        sheet.write_string(r, 5, report_word(str(c.churn_risk)), f["high"] if c.high else f["medium"])
        reasons = "\n".join(c.churn_reasons)
        sheet.write_string(r, 6, reasons, f["wrap"])
        if lines_needed(reasons, 56) > 1:       # no program grows the row on opening
            sheet.set_row(r, 15 * lines_needed(reasons, 56) + 2)
        sheet.write_number(r, 7, float(c.value), f["money"])
        _write_date(sheet, r, 8, c.last_order, f["date"])
        _write_date(sheet, r, 9, c.last_contact, f["date"])
    sheet.autofilter(0, 0, len(rows), len(keys) - 1)
    return sheet


def _write_date(sheet, row: int, col: int, value, fmt) -> None:
    if pd.isna(value):
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmt)


def write_stats_sheet(workbook, state: State):
    """Add the 统计 sheet from ``state.figures``; returns the worksheet."""
    sheet = workbook.add_worksheet(text("churn.sheet.stats"))
    figures = state.figures
    f = _formats(workbook)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 2, 14)
    sheet.set_column(3, 4, 12)          # the trend table's last two columns
    printable(sheet, header_row=None)
    sheet.write_string(0, 0, text("churn.stats.title", date=state.today.isoformat()), f["title"])
    if not figures:
        return sheet
    row = _key_numbers(sheet, 2, figures, f)
    to_date = figures.get("month_to_date", "")
    months = [(text("sheets.month.to_date", month=m) if m == to_date else m, v)
              for m, v in figures["revenue_by_month"]]
    sections = (
        ("month_title", ("month", "amount"), months, "column", f["money"]),
        ("grade_title", ("grade", "customers"), list(_ordered(figures["per_grade"], GRADES)), "column", None),
        ("state_title", ("state", "customers"), [(report_word(s), n) for s, n in _ordered(figures["per_state"], LIFECYCLES)], "pie", None),
        ("churn_title", ("rep", "high", "medium"),
         [(rep, n[HIGH], n[MEDIUM]) for rep, n in figures["churn_per_rep"].items()], "stacked", None),
        ("rep_title", ("rep", "customers"), list(figures["per_rep"].items()), None, None),
        ("rep_revenue_title", ("rep", "amount"), list(figures["revenue_by_rep"].items()), None, f["money"]),
    )
    for title, headers, data, chart, number in sections:
        first = row + 2
        row = _table(sheet, row, text(f"churn.stats.{title}"),
                     [text(f"churn.stats.{h}") for h in headers], data, f, number)
        if chart and data:
            workbook_chart = _chart(workbook, sheet.name, chart, text(f"churn.stats.{title}"),
                                    [text(f"churn.stats.{h}") for h in headers[1:]],
                                    first, first + len(data) - 1, len(headers) - 1,
                                    _to_date_points(len(data)) if title == "month_title" and to_date
                                    else None)
            sheet.insert_chart(first - 2, CHART_COLUMN, workbook_chart)
            row = max(row, first - 2 + CHART_ROWS)
        row += 1
    report_trend.write_trend(workbook, sheet, row, figures.get("customer_trend", []), f)
    return sheet


def _to_date_points(n: int) -> list:
    """The running month's bar pale and dashed: it is not a whole month (本月至今)."""
    return [None] * (n - 1) + [{"fill": {"color": "#DDEBF7"},
                                "border": {"color": "#4472C4", "dash_type": "dash"}}]


def _ordered(counts: dict, keys) -> list[tuple[str, int]]:
    return [(k, counts.get(k, 0)) for k in keys]


def _key_numbers(sheet, row: int, figures: dict, f: dict) -> int:
    sheet.write_string(row, 0, text("churn.stats.item"), f["header"])
    sheet.write_string(row, 1, text("churn.stats.count"), f["header"])
    items = [(k, figures[k], None) for k in ("customers_total", "ever_bought", "repeat_buyers",
                                              "one_time_buyers", "never_contacted",
                                              "receivables_customers")]
    items += [("receivables_total", figures["receivables_total"], f["money"]),
              ("top20_share", figures["top20_share"], f["percent"])]
    for key, value, fmt in items:
        row += 1
        sheet.write_string(row, 0, text(f"churn.stats.{key}"))
        sheet.write_number(row, 1, value, fmt)
    return row + 2


def _table(sheet, row: int, title: str, headers: list[str], data, f: dict, number) -> int:
    """Title, header row and data rows from ``row``; returns the row after the table."""
    sheet.write_string(row, 0, title, f["title"])
    for col, header in enumerate(headers):
        sheet.write_string(row + 1, col, header, f["header"])
    for r, values in enumerate(data, start=row + 2):
        sheet.write_string(r, 0, str(values[0]))
        for col, value in enumerate(values[1:], start=1):
            sheet.write_number(r, col, value, number)
    return row + 2 + len(data)


def _chart(workbook, sheet_name: str, kind: str, title: str, series_names: list[str],
           first: int, last: int, n_series: int, points: list | None = None):
    """A native chart over the table rows first..last: categories in column A,
    one series per value column; ``points``: per-point formats of the first series."""
    options = {"type": "column", "subtype": "stacked"} if kind == "stacked" else {"type": kind}
    chart = workbook.add_chart(options)
    # 高 red, 中 orange: the same colours as the register and the other sheets.
    fills = [{"fill": {"color": CHART_HIGH}}, {"fill": {"color": CHART_MEDIUM}}] \
        if kind == "stacked" else [{}] * n_series
    for col in range(1, n_series + 1):
        chart.add_series({
            **fills[col - 1],
            "name": series_names[col - 1],
            "categories": [sheet_name, first, 0, last, 0],
            "values": [sheet_name, first, col, last, col],
            **({"data_labels": {"value": True, "percentage": False}} if kind == "pie" else {}),
            **({"points": points} if points and col == 1 else {}),
        })
    chart.set_title({"name": title})
    if kind != "pie":
        chart.set_legend({"position": "bottom" if n_series > 1 else "none"})
    return chart
