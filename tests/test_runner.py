"""A run against a register someone has open: report and emails still happen, the
write-back waits for the lock to go, and the 主管 hears when it never could (issue #7)."""
from __future__ import annotations

import datetime as dt
import email
import json
from email import policy

import openpyxl

from pipeline.config import Config
from pipeline.runner import RunOptions, run_once
from tests.register_builder import customer, minimal_register

DAY = dt.date(2026, 11, 23)


def locked_run(tmp_path):
    register = minimal_register(tmp_path / "台账.xlsx", [customer("C1", "鑫达汽修厂", 需求="无")])
    lock = tmp_path / "~$台账.xlsx"
    lock.write_bytes(bytes([4]) + "张会计".encode("gbk").ljust(53, b" ") + b"\0" * 111)
    opts = RunOptions(config=Config(), today=DAY, run_date=DAY, register=register, output=tmp_path / "out")
    return register, lock, run_once(opts)


def summary(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / DAY.isoformat() / "summary.json").read_text(encoding="utf-8"))


def test_locked_register_is_left_alone_and_retried_when_free(tmp_path):
    register, lock, outcome = locked_run(tmp_path)
    before = register.read_bytes()
    assert outcome.ok and outcome.retry_writeback is not None
    facts = summary(tmp_path)
    assert facts["writeback"]["reason_code"] == "locked"
    assert (tmp_path / "out" / DAY.isoformat() / "report.xlsx").exists()
    assert {e["status"] for e in facts["emails"]} == {"outbox"}
    assert outcome.retry_writeback() is False and register.read_bytes() == before
    lock.unlink()
    assert outcome.retry_writeback() is True
    headers = [c.value for c in openpyxl.load_workbook(register)["客户"][1]]
    assert "等级" in headers


def test_the_manager_is_told_when_the_lock_never_goes(tmp_path):
    _, _, outcome = locked_run(tmp_path)
    outcome.give_up_writeback()
    eml = tmp_path / "out" / DAY.isoformat() / "outbox" / "notice-陈总.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == "【台账未更新】11月23日 · 台账.xlsx"
    assert "台账.xlsx 今天没能更新" in message.get_body(("plain",)).get_content()
    assert summary(tmp_path)["writeback"]["notices"] == ["outbox"]


def test_a_report_name_that_cannot_be_replaced_does_not_fail_the_run(tmp_path):
    """Issue 11: report.xlsx open in Excel (here: a folder in the way) used to fail the run
    after the register and emails were done; the report now takes the next free name."""
    register = minimal_register(tmp_path / "台账.xlsx", [customer("C1", "鑫达汽修厂", 需求="无")])
    (tmp_path / "out" / DAY.isoformat() / "report.xlsx").mkdir(parents=True)   # in the way
    opts = RunOptions(config=Config(), today=DAY, run_date=DAY, register=register, output=tmp_path / "out")
    outcome = run_once(opts)
    assert outcome.ok
    facts = summary(tmp_path)
    assert facts["status"] == "ok" and facts["report"].endswith("report (2).xlsx") and "report.xlsx" in facts["report_note"]


def test_a_register_saved_by_its_user_meanwhile_is_not_overwritten(tmp_path):
    """The lock goes because the user saved and closed: their edits win, the retries go
    on refusing (the 主管 is told at the deadline), the summary says why."""
    register, lock, outcome = locked_run(tmp_path)
    lock.unlink()
    saved = minimal_register(tmp_path / "saved.xlsx", [customer("C1", "鑫达汽修厂（改名）", 需求="无")])
    register.write_bytes(saved.read_bytes())   # the user's own save
    assert outcome.retry_writeback() is False
    assert register.read_bytes() == saved.read_bytes()
    assert summary(tmp_path)["writeback"]["reason_code"] == "changed"


def test_on_the_demo_shop_each_reps_email_names_only_their_own_customers(tmp_path):
    """Issue 5: the assignment itself (not just the template) keeps the lists apart."""
    from email import policy as mail_policy
    from email.parser import BytesParser

    from pipeline.demo.shop import write_demo_register
    from pipeline.model import State
    from pipeline.read.validate import validate
    from pipeline.read.workbook import read_workbook
    from pipeline.rules.rep_day import with_assignment
    from pipeline.rules.stages import run_stages
    register = tmp_path / "demo.xlsx"
    write_demo_register(register, DAY)
    opts = RunOptions(config=Config(), today=DAY, run_date=DAY, register=register, output=tmp_path / "out",
                      dry_run=True)
    assert run_once(opts).ok
    checked, _ = validate(read_workbook(register), Config(), DAY)
    state, _ = run_stages(State.start(checked, DAY), Config())
    customers = with_assignment(state)
    names = customers["name"]
    unique = customers[(names.map(names.value_counts()) == 1) & (names.str.len() >= 3)]
    outbox = tmp_path / "out" / DAY.isoformat() / "dry-run" / "outbox"
    reps = [d.rep for d in state.days if d.role == "业务员"]
    assert len(reps) == 4
    for rep in reps:
        message = BytesParser(policy=mail_policy.default).parsebytes((outbox / f"rep-{rep}.eml").read_bytes())
        body = message.get_body(("plain",)).get_content()
        own = set(unique.loc[unique["assigned_rep"] == rep, "name"])
        others = unique.loc[unique["assigned_rep"] != rep, "name"]
        # (a name that is part of one of the rep's own customers' names does not count)
        leaked = [n for n in others if n in body and not any(n in m for m in own)]
        assert leaked == [], rep
        assert any(n in body for n in own), rep
