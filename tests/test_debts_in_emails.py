"""Receivables by name in the emails (issue #14): the 主管's email names the customers who owe
the most, and a rep's card shows what the customer owes when the rep calls them anyway.

Checked on the demo shop through the command line, read back with the ``email`` package and
against the report's 欠款 sheet (openpyxl), as a user's program would.
"""
from __future__ import annotations

import re

import openpyxl
import pytest

from tests.test_morning_surfaces import MONDAY, read_eml, run_demo


@pytest.fixture(scope="module")
def monday(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("debts"), MONDAY)


def debts_sheet(day_dir) -> list[dict]:
    sheet = openpyxl.load_workbook(day_dir / "report.xlsx")["欠款"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    return [r for r in rows if r["客户编号"]]


def money(amount: float) -> str:
    return f"{amount:,.0f}"


def test_owner_email_names_the_largest_debts(monday):
    owed = debts_sheet(monday)
    assert owed, "the demo shop has overdue receivables"
    _, text, html = read_eml(monday / "outbox" / "owner-陈总.eml")
    for row in owed[:5]:
        amount = f"¥{money(row['逾期欠款（元）'])}"
        line = next((l for l in text.splitlines() if f"编号 {row['客户编号']}" in l and amount in l), None)
        assert line is not None, f"{row['客户名称']} owes ¥{row['逾期欠款（元）']} and is not named"
        assert row["客户名称"] in line and f"{row['逾期天数']} 天" in line and row["业务员"] in line
        assert row["客户名称"] in html and amount in html


def test_a_card_shows_what_the_customer_owes(monday):
    owed = {r["客户编号"]: r for r in debts_sheet(monday)}
    shown = 0
    for path in (monday / "outbox").glob("rep-*.eml"):
        _, text, html = read_eml(path)
        for card in re.split(r"\n(?=\d+\. )", text):
            found = re.search(r"编号 (\S+)$", card.splitlines()[0])
            if not found:
                continue
            debt = owed.get(found.group(1))
            line = next((l for l in card.splitlines() if l.strip().startswith("欠款")), None)
            if debt is None:
                assert line is None, card
                continue
            shown += 1
            assert line is not None, card
            assert f"¥{money(debt['逾期欠款（元）'])}" in line and f"{debt['逾期天数']} 天" in line
            assert f"¥{money(debt['逾期欠款（元）'])}" in html
    assert shown >= 1, "no customer with a debt is in today's lists (the demo has several)"


def test_the_english_summary_names_levels_and_states_in_english(tmp_path):
    """The register keeps 高/潜在 (its words); the English 主管's email translates them."""
    day = run_demo(tmp_path, MONDAY, '[locale]\nlanguage = "en"\n')
    _, text, html = read_eml(day / "outbox" / "owner-陈总.eml")
    risks = re.findall(r"^  - .*?\[(.+?)\] \(No\. ", text, re.MULTILINE)
    assert risks and set(risks) <= {"high", "medium"}
    states = re.search(r"^States: (.*)$", text, re.MULTILINE).group(1)
    assert "potential" in states and "active" in states and not re.search(r"[\u4e00-\u9fff]", states)
    assert ">高<" not in html and ">high<" in html
    assert re.search(r"States: .*?potential \d+.*?active \d+", html)


def test_the_english_report_says_levels_and_states_in_english_the_customers_sheet_keeps_the_registers(tmp_path):
    day = run_demo(tmp_path, MONDAY, '[locale]\nlanguage = "en"\n')
    book = openpyxl.load_workbook(day / "report.xlsx")
    tasks = list(book["Tasks today"].iter_rows(min_row=2, values_only=True))
    risk = tasks[0].index("Churn risk") if "Churn risk" in tasks[0] else \
        next(i for i, h in enumerate(tasks[0]) if "risk" in str(h).lower())
    assert {r[risk] for r in tasks[1:]} - {None, ""} == {"high", "medium", "low"}
    rules = [r.formula for cf in book["Tasks today"].conditional_formatting for r in cf.rules]
    assert ['"high"'] in rules and ['"medium"'] in rules
    levels = {r[5] for r in book["Churn risks"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert levels == {"high", "medium"}
    figures = [r[0] for r in book["Figures"].iter_rows(values_only=True)]
    assert {"potential", "active", "lost"} <= set(figures) and "潜在" not in figures
    customers = list(book["Customers"].iter_rows(values_only=True))
    assert {r[customers[0].index("流失风险")] for r in customers[1:]} - {None} == {"高", "中", "低"}
