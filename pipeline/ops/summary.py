"""summary.json and the one-screen summary on the terminal (spec §4).

``facts`` is a plain dict the runner fills as it goes; ``write`` is called even when a
step failed, so the file always says how far the run got and why it stopped.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Sequence

from pipeline.messages import text
from pipeline.model import Problem, State


def start(opts) -> dict:
    return {"status": "running", "date": opts.today.isoformat(), "run_date": opts.run_date.isoformat(),
            "register": str(opts.register), "dry_run": opts.dry_run, "step": "start"}


def finish(facts: dict, state: State, problems: Sequence[Problem]) -> None:
    register = state.register
    usable = {k: int((~getattr(register, k)["blocked"]).sum()) for k in ("customers", "followups", "orders", "reps")}
    facts.update({
        "status": "ok", "step": "done",
        "counts": {k: len(getattr(register, k)) for k in ("customers", "followups", "orders", "reps")},
        "counts_usable": usable,
        "problems": {"total": len(problems),
                     "by_severity": dict(Counter(p.severity for p in problems)),
                     "by_kind": dict(Counter(p.kind for p in problems).most_common())},
        "notes": state.notes,
        "figures": state.figures,
    })


def fail(facts: dict, reason: str) -> None:
    facts.update({"status": "failed", "failed_step": facts.get("step"), "error": reason})


def write(path: Path, facts: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts, ensure_ascii=False, indent=2, default=_plain), encoding="utf-8")
    tmp.replace(path)


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):      # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def inbox_lines(inbox: dict) -> list[str]:
    """The follow-up mailbox's lines (issue 13): what was read, what waits."""
    lines = [inbox[k] for k in ("line", "error") if inbox.get(k)]
    if inbox.get("written_rows"):
        lines.append(text("inbox.written_short", rows=inbox["written_rows"]))
    elif inbox.get("pending_rows"):
        lines.append(text("inbox.pending", rows=inbox["pending_rows"]))
    return lines


def terminal_lines(facts: dict) -> list[str]:
    """What the person who started the run sees at the end: one screen, no jargon."""
    if facts.get("status") != "ok":
        step = facts.get("failed_step") or "read"
        return [text("summary.failed", step=text(f"run.step.{step}"), error=facts.get("error", ""))]
    counts, problems = facts["counts"], facts["problems"]
    sev = problems["by_severity"]
    lines = [text("summary.title", date=facts["date"]),
             text("summary.counts", **{**counts, "reps": facts["notes"].get("reps_working", counts["reps"])}),
             text("summary.problems", total=problems["total"], errors=sev.get("error", 0),
                  warnings=sev.get("warning", 0), notes=sev.get("info", 0))]
    for rep, t in facts["notes"].get("tasks_per_rep", {}).items():
        lines.append(text("summary.rep", rep=rep, tasks=t["customers"], over_cap=t["waiting"],
                          unassigned=t["unassigned"]))
    wb = facts.get("writeback", {})
    lines.append(text(f"summary.writeback.{wb.get('status', 'skipped')}", reason=wb.get("reason", "")))
    if wb.get("status") == "written" and wb.get("reason"):
        lines.append("  " + wb["reason"])      # written, with a note (a signature gone)
    lines += inbox_lines(facts.get("inbox") or {})
    totals = facts.get("email_totals", {})
    lines.append(text("mail.totals", sent=totals.get("sent", 0), already=totals.get("already_sent", 0),
                      outbox=totals.get("outbox", 0), failed=totals.get("failed", 0)))
    lines += [text("mail.failed", to=f["to"] or f.get("name") or "?", error=f["error"], path=f["eml"])
              if f["eml"] else text("mail.failed_nowhere", to=f["to"] or f.get("name") or "?", error=f["error"])
              for f in totals.get("failures", [])]
    lines += [text("mail.uncertain_line", to=u["to"] or u["name"]) for u in totals.get("uncertain_keys", [])]
    lines += ["  " + note for note in totals.get("notes", [])]
    if facts.get("mail_note"):
        lines.append("  " + facts["mail_note"])
    for year in facts.get("notes", {}).get("unknown_holiday_years", []):
        lines.append(text("summary.unknown_year", year=year))
    if facts.get("report_note"):   # report.xlsx was open in Excel: the report has another name
        lines.append(facts["report_note"])
    if facts.get("report_error"):   # the disk could not take it: no path to show
        lines.append(facts["report_error"])
    else:
        lines.append(text("summary.report", path=facts.get("report", "")))
    return lines
