"""Build a register the way a shop's real one looks after years in Excel.

It carries everything the writeback must not lose: a dropdown stored as an Excel-2010
(x14) extension pointing at another sheet, a classic dropdown, conditional formatting,
an image, a chart, a formatted comment, an Excel table over the customers, defined
names, a formula column with cached values, frozen panes, an autofilter, column widths,
a hidden sheet and sparklines.  xlsxwriter writes most of it; the x14 dropdown (which
xlsxwriter does not emit) is spliced into the customer sheet's XML afterwards.
"""
from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from pathlib import Path

import xlsxwriter

CUSTOMER_HEADERS = ["客户编号", "客户名称", "客户类型", "联系人", "电话", "业务员", "需求",
                    "建档日期", "名称长度", "等级", "下次跟进", "备注"]
CUSTOMERS = [
    ("C001", "鑫达汽修厂", "修理厂", "王师傅", "13800138000", "张三", "明确", dt.date(2025, 3, 1),
     "B", dt.date(2026, 11, 1), "老客户"),
    ("C002", "顺风车队", "车队", "李队长", "0755-12345678", "李四", "潜在", dt.date(2025, 6, 9),
     "D", None, ""),
    ("C003", "华南配件经销", "经销商", "赵经理", "400-800-1234", "张三", "无", dt.date(2024, 1, 15),
     "E", dt.date(2027, 1, 15), "每月对账"),
    ("C004", "个人-陈先生", "个人", "陈先生", "13912345678", "王五", "明确", dt.date(2026, 10, 2),
     None, None, ""),
]
X14_DROPDOWN = (
    '<ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    '<x14:formula1><xm:f>业务员!$A$2:$A$4</xm:f></x14:formula1><xm:sqref>F2:F200</xm:sqref>'
    '</x14:dataValidation></x14:dataValidations></ext>')


def tiny_png() -> bytes:
    """A 2x2 red PNG, enough for Excel to draw an image."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build_rich_register(path: Path) -> Path:
    """Write the rich test register to ``path`` and return it."""
    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True, "bg_color": "#D9E1F2"})
    date = book.add_format({"num_format": "yyyy/m/d"})
    customers = book.add_worksheet("客户")
    _write_customers(book, customers, date)
    _write_logs(book, bold, date)
    reps = book.add_worksheet("业务员")
    reps.write_row(0, 0, ["姓名", "邮箱", "角色", "在职"], bold)
    for row, rep in enumerate(["张三", "李四", "王五"], start=1):
        reps.write_row(row, 0, [rep, f"rep{row}@example.com", "业务员", "是"])
    options = book.add_worksheet("选项")
    options.write_column(0, 0, ["明确", "潜在", "无"])
    options.hide()
    book.define_name("客户名单", "=客户!$A$2:$B$5")
    book.define_name("需求选项", "=选项!$A$1:$A$3")
    customers.print_area("A1:L5")
    book.close()
    _splice_x14_dropdown(path)
    return path


def _write_customers(book, sheet, date) -> None:
    rows = []
    for c in CUSTOMERS:
        rows.append([*c[:8], None, *c[8:]])
    sheet.add_table(0, 0, len(rows), len(CUSTOMER_HEADERS) - 1, {
        "name": "客户表", "style": "Table Style Medium 2",
        "columns": [{"header": h} for h in CUSTOMER_HEADERS]})
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            if c == 8:
                sheet.write_formula(r, c, f"=LEN(B{r + 1})", None, len(values[1]))
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            elif value is not None:
                sheet.write(r, c, value)
    sheet.set_column("A:A", 10)
    sheet.set_column("B:B", 22)
    sheet.set_column("L:L", 30)
    sheet.freeze_panes(1, 2)
    sheet.data_validation("G2:G200", {"validate": "list", "source": ["明确", "潜在", "无"]})
    sheet.conditional_format("C2:C200", {"type": "cell", "criteria": "==", "value": '"车队"',
                                         "format": book.add_format({"bg_color": "#E2EFDA"})})
    sheet.write_comment("B2", "十年老客户，月结", {"author": "老板", "font_name": "宋体",
                                               "font_size": 11, "color": "#FFFF99"})
    sheet.insert_image("N2", "logo.png", {"image_data": io.BytesIO(tiny_png())})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": "金额", "categories": "=销售!$B$2:$B$4",
                      "values": "=销售!$D$2:$D$4"})
    sheet.insert_chart("N6", chart)


def _write_logs(book, bold, date) -> None:
    follow_ups = book.add_worksheet("跟进记录")
    follow_ups.write_row(0, 0, ["日期", "客户编号", "业务员", "方式", "内容"], bold)
    follow_ups.write_datetime(1, 0, dt.datetime(2026, 11, 20), date)
    follow_ups.write_row(1, 1, ["C001", "张三", "电话", "问了刹车片报价"])
    follow_ups.autofilter(0, 0, 1, 4)
    follow_ups.freeze_panes(1, 0)
    sales = book.add_worksheet("销售")
    sales.write_row(0, 0, ["日期", "客户编号", "单号", "金额", "已收金额", "应收日期"], bold)
    for r, (customer, amount) in enumerate([("C001", 1200), ("C003", 5600), ("C001", 800)], 1):
        sales.write_datetime(r, 0, dt.datetime(2026, 10, r), date)
        sales.write_row(r, 1, [customer, f"SO-{r:04d}", amount])
    sales.add_sparkline("H2", {"range": "销售!D2:D4"})


def _splice_x14_dropdown(path: Path) -> None:
    """Add the x14 dropdown to the customer sheet (sheet1.xml), keeping part order."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                if "<extLst>" in xml:
                    xml = xml.replace("<extLst>", "<extLst>" + X14_DROPDOWN, 1)
                else:
                    xml = xml.replace("</worksheet>", f"<extLst>{X14_DROPDOWN}</extLst></worksheet>")
                data = xml.encode("utf-8")
            target.writestr(info, data)


def computed_columns(day: int = 24):
    """Computed columns for the rich register's four customers (rows 2-5).

    ``day`` shifts the dates so a test can make a second night's values differ.
    """
    from pipeline.writeback.update import OutColumn
    return [
        OutColumn("等级", "text", {2: "A", 3: "D", 4: "E", 5: "C"}, ("等級", "grade")),
        OutColumn("下次跟进", "date", {2: dt.date(2026, 11, day), 3: dt.date(2026, 12, 1),
                                     5: dt.date(2026, 11, 23)}, ("下次跟進", "next_follow_up")),
        OutColumn("逾期天数", "int", {2: 0, 3: 5, 4: 0, 5: 12}),
        OutColumn("流失风险", "text", {2: "高", 5: "中"}),
        OutColumn("档案完整度", "percent", {2: 1.0, 3: 7 / 9, 4: 0.5, 5: 2 / 9}),
        OutColumn("欠款", "money", {3: 1234.5}),
    ]
