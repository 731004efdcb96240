"""Headers as a shop types them (issue: adversarial run on the merged code).  Both tests
failed before: an Alt+Enter or a full-width space inside a header stopped the whole night
(「缺少必需的列」), and a second 业务员 column was silently ignored even where it named
another rep (whose customer is it?).  Real .xlsx files written by xlsxwriter.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.read import read_workbook, used_sheets, validate
from tests.register_builder import (CUSTOMER_HEADER, FOLLOWUP_HEADER, ORDER_HEADER, REPS_HEADER,
                                    customer, write_workbook)

DAY = dt.date(2026, 11, 23)
PROJECT = Path(__file__).resolve().parent.parent
SPACES = st.sampled_from(["", " ", "\u3000", "\n", "\r\n", "\t", "  "])
REPS = [["王强", "wq@example.com", "业务员", "是"], ["李娜", "ln@example.com", "业务员", "是"],
        ["陈总", "boss@example.com", "主管", "是"]]


def typed(header: str, before: str, inside: str, after: str) -> str:
    return before + header[:1] + inside + header[1:] + after


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(SPACES, SPACES, SPACES), min_size=len(CUSTOMER_HEADER), max_size=len(CUSTOMER_HEADER)),
       st.lists(st.sampled_from(["王强", "李娜", "", None]), min_size=4, max_size=4))
def test_headers_with_spaces_and_a_second_rep_column(tmp_path_factory, spaces, second):
    header = [typed(h, *s) for h, s in zip(CUSTOMER_HEADER, spaces)] + ["业务员 "]
    rows = [customer(f"C00{i}", f"客户{i}", rep="王强") + [second[i]] for i in range(4)]
    path = write_workbook(tmp_path_factory.mktemp("r") / "r.xlsx", {
        "客户": [header, *rows], "跟进记录": [FOLLOWUP_HEADER], "销售": [ORDER_HEADER], "业务员": [REPS_HEADER, *REPS]})
    register, problems = validate(read_workbook(path, wanted=used_sheets(Config())), Config(), DAY)
    reps = dict(zip(register.customers["customer_id"], register.customers["rep"]))
    for i in range(4):   # the second column agrees or is blank: 王强; it names someone else: nobody (the 主管)
        assert reps[f"C00{i}"] == ("" if second[i] == "李娜" else "王强")
        differ = [p for p in problems if p.kind == "rep_columns_differ" and p.row == i + 2]
        assert len(differ) == (second[i] == "李娜")
    assert [(p.row, p.kind) for p in problems if p.kind == "duplicate_header"] == [(1, "duplicate_header")]


def test_a_customer_whose_two_rep_columns_differ_is_not_in_either_reps_email(tmp_path):
    header = [*CUSTOMER_HEADER, "业务员"]
    rows = [customer("C001", "争议客户", rep="王强", 需求="有", 预计成交=dt.date(2026, 11, 30)) + ["李娜"],
            customer("C002", "普通客户", rep="王强", 需求="有", 预计成交=dt.date(2026, 11, 30)) + ["王强"]]
    path = write_workbook(tmp_path / "r.xlsx", {
        "客户": [header, *rows], "跟进记录": [FOLLOWUP_HEADER], "销售": [ORDER_HEADER], "业务员": [REPS_HEADER, *REPS]})
    done = subprocess.run([sys.executable, "run.py", "--register", str(path), "--output", str(tmp_path / "out"),
                           "--date", DAY.isoformat(), "--dry-run"], cwd=PROJECT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    outbox = tmp_path / "out" / "2026-11-23" / "dry-run" / "outbox"
    for rep in ("王强", "李娜"):
        mail = outbox / f"rep-{rep}.html"
        assert not mail.exists() or "争议客户" not in mail.read_text()
    assert "普通客户" in (outbox / "rep-王强.html").read_text()
    assert "争议客户" in (outbox / "owner-陈总.html").read_text()


def run_dry(tmp_path: Path, reps: list[list]) -> Path:
    rows = [customer("C001", "王强的客户", rep="王强", 需求="有", 预计成交=dt.date(2026, 11, 30)),
            customer("C002", "李娜的客户", rep="李娜", 需求="有", 预计成交=dt.date(2026, 11, 30))]
    path = write_workbook(tmp_path / "r.xlsx", {"客户": [CUSTOMER_HEADER, *rows], "跟进记录": [FOLLOWUP_HEADER],
                                                "销售": [ORDER_HEADER], "业务员": [REPS_HEADER, *reps]})
    done = subprocess.run([sys.executable, "run.py", "--register", str(path), "--output", str(tmp_path / "out"),
                           "--date", DAY.isoformat(), "--dry-run"], cwd=PROJECT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return tmp_path / "out" / "2026-11-23" / "dry-run" / "outbox"


def test_two_reps_on_one_address_get_no_email_and_their_customers_go_to_the_boss(tmp_path):
    """Failed before: 王强's customers were mailed to 李娜's address (his row had hers)."""
    outbox = run_dry(tmp_path, [["王强", "ln@example.com", "业务员", "是"], ["李娜", "LN@example.com ", "业务员", "是"],
                                ["陈总", "boss@example.com", "主管", "是"]])
    assert not (outbox / "rep-王强.eml").exists() and not (outbox / "rep-李娜.eml").exists()
    boss = (outbox / "owner-陈总.html").read_text()
    assert "王强的客户" in boss and "李娜的客户" in boss


def test_a_rep_on_the_boss_address_keeps_his_email(tmp_path):
    outbox = run_dry(tmp_path, [["王强", "boss@example.com", "业务员", "是"], ["李娜", "ln@example.com", "业务员", "是"],
                                ["陈总", "boss@example.com", "主管", "是"]])
    assert "王强的客户" in (outbox / "rep-王强.html").read_text()
    assert "李娜的客户" in (outbox / "rep-李娜.html").read_text()
