"""The 流失预警 and 统计 sheets: written with xlsxwriter, read back with openpyxl and
as the raw package (native charts referenced from the 统计 sheet's drawing)."""
from __future__ import annotations

import posixpath
import zipfile
from datetime import datetime, timedelta
from xml.etree import ElementTree

import openpyxl
import pytest
import xlsxwriter

from pipeline.config import Config
from pipeline.report.churn import write_churn_sheet, write_stats_sheet
from pipeline.rules.churn import churn_risk
from pipeline.rules.figures import owner_figures
from pipeline.rules.receivables import receivables
from tests.test_churn import T, make_state
from tests.test_figures import REPS, shop

REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def full_state(customers, orders):
    state = make_state(customers, orders, reps=REPS)
    for stage in (churn_risk, receivables, owner_figures):
        state, _ = stage(state, Config())
    return state


def write(path, state):
    workbook = xlsxwriter.Workbook(str(path))
    write_churn_sheet(workbook, state)
    write_stats_sheet(workbook, state)
    workbook.close()
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return write(tmp_path_factory.mktemp("report") / "report.xlsx", full_state(*shop()))


def test_churn_sheet(report):
    sheet = openpyxl.load_workbook(report)["流失预警"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("客户编号", "客户名称", "联系人", "电话", "业务员", "流失风险", "风险原因",
                       "预计一年价值（元）", "最近进货", "最近联系")
    rows = [r[:2] + r[4:] for r in rows]                        # contact and phone: test_report_sheets
    # 高 by value, then 中; A3 (B, follow-up 12 days overdue) is the rep's neglect, not churn
    assert [r[0] for r in rows[1:]] == ["A2", "A1"]
    a2, a1 = rows[1:]
    assert a2[1:4] == ("顺达车队", "张三", "高") and a2[4] == "最近一次满意度为2分（满分5分）"
    assert a2[5] == pytest.approx(5000.0)
    assert a2[6] == datetime.combine(T - timedelta(days=10), datetime.min.time())
    assert a1[4] == "平时约每7天进货一次，已有36天未进货"
    assert sheet.freeze_panes == "A2"


def test_several_reasons_are_one_per_line(tmp_path):
    customers = [{"customer_id": "007", "name": "老王", "rep": "张三", "grade": "A", "overdue_days": 9,
                  "latest_satisfaction": 1.0}]
    orders = [{"customer_id": "007", "date": T - timedelta(days=3), "amount": 50.0}]
    path = write(tmp_path / "r.xlsx", full_state(customers, orders))
    row = list(openpyxl.load_workbook(path)["流失预警"].iter_rows(min_row=2, values_only=True))[0]
    assert row[0] == "007"                                      # leading zeros kept
    orders.append({"customer_id": "007", "date": T - timedelta(days=120), "amount": 6000.0})
    path = write(tmp_path / "r.xlsx", full_state(customers, orders))
    row = list(openpyxl.load_workbook(path)["流失预警"].iter_rows(min_row=2, values_only=True))[0]
    assert row[6] == "近90天进货¥50，比之前90天的¥6,000少了99%\n最近一次满意度为1分（满分5分）"


def test_no_risks_says_so(tmp_path):
    orders = [{"customer_id": "C1", "date": T - timedelta(days=3), "amount": 50.0}]
    path = write(tmp_path / "r.xlsx", full_state([{"customer_id": "C1", "rep": "张三"}], orders))
    sheet = openpyxl.load_workbook(path)["流失预警"]
    assert sheet["A2"].value == "今天没有流失风险为高或中的客户。"


def test_stats_sheet_tables(report):
    sheet = openpyxl.load_workbook(report)["统计"]
    cells = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row[0] is not None}
    assert cells["客户总数"][0] == 5
    assert cells["买过两次及以上"][0] == 2
    assert cells["从未联系过"][0] == 1
    assert cells["欠款合计（元）"][0] == 4000
    assert cells["前20%客户贡献的近一年销售额占比"][0] == pytest.approx(5000 / 5600)
    months = dict(table(sheet, "近12个月每月销售额")[1:])
    assert months["2026-11（本月至今）"] == 5000 and months["2025-12"] == 0 and len(months) == 12
    assert cells["B"][0] == 1 and cells["D"][0] == 4
    assert cells["现实"][0] == 3
    assert table(sheet, "各业务员的流失风险客户") == [("业务员", "高风险", "中风险"), ("未分配", 0, 0),
                                                ("张三", 2, 0)]
    assert table(sheet, "近一年各业务员销售额") == [("业务员", "销售额（元）"), ("张三", 5400), ("未分配", 200)]
    assert table(sheet, "各业务员客户数")[1:] == [("未分配", 3), ("张三", 2)]


def table(sheet, title: str) -> list[tuple]:
    """The rows under ``title`` (header first) up to the next empty row, columns A–C."""
    rows = [r[:3] for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == title) + 1
    end = next((i for i in range(start, len(rows)) if rows[i][0] is None), len(rows))
    return [tuple(v for v in r if v is not None) for r in rows[start:end]]


def sheet_part(archive: zipfile.ZipFile, name: str) -> str:
    """The package part of the worksheet called ``name``."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = _rels(archive, "xl/workbook.xml")
    rid = next(s.get(R_ID) for s in workbook.iter(f"{MAIN}sheet") if s.get("name") == name)
    return rels[rid]


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, file = posixpath.split(part)
    xml = ElementTree.fromstring(archive.read(f"{folder}/_rels/{file}.rels"))
    return {r.get("Id"): posixpath.normpath(posixpath.join(folder, r.get("Target")))
            for r in xml.iter(REL)}


def test_stats_sheet_has_native_charts(report):
    with zipfile.ZipFile(report) as archive:
        charts = {n for n in archive.namelist() if n.startswith("xl/charts/chart")}
        stats = sheet_part(archive, "统计")
        drawing = [t for t in _rels(archive, stats).values() if "/drawings/" in t]
        assert len(drawing) == 1
        referenced = {t for t in _rels(archive, drawing[0]).values() if "/charts/" in t}
        kinds = [ElementTree.fromstring(archive.read(c)) for c in sorted(referenced)]
        churn = sheet_part(archive, "流失预警")
        churn_rels = f"{posixpath.dirname(churn)}/_rels/{posixpath.basename(churn)}.rels"
        assert churn_rels not in archive.namelist()             # no drawing on 流失预警
    assert len(referenced) == 5 and referenced == charts
    tags = [{el.tag.split("}")[1] for el in k.iter()} for k in kinds]
    assert sum("barChart" in t for t in tags) == 3 and sum("pieChart" in t for t in tags) == 1
    assert sum("lineChart" in t for t in tags) == 1             # the monthly customer trend


def test_sheets_of_a_state_the_churn_stages_did_not_see(tmp_path):
    state = make_state([{"customer_id": "C1"}], [])
    path = write(tmp_path / "r.xlsx", state)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["流失预警", "统计"]
    assert book["流失预警"].max_row == 1 and book["统计"]["A1"].value == "客户统计（截至2026-11-23）"
