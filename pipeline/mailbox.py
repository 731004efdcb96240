"""The follow-up mailbox in a run (issue 13): read the replies, answer the refused, and
hand the rows to the rules and the write-back.  The runner calls these at its steps:

    take_in    after validating: fetch, judge, journal, move, reply; pending rows join the log
    log_rows   for the write-back: the pending rows not in the register yet (LogAppend)
    written    after a successful write-back: the journal notes the rows as written
    for_emails what the morning emails say about yesterday's replies

Without ``[inbox] host`` every function is a no-op and nothing in the run changes.
A mailbox that cannot be reached is a line on the terminal and in the 主管's summary.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.inbox import fetch, rows as email_rows
from pipeline.inbox.intake import ACCEPTED, REFUSED, take_in as judge_all
from pipeline.inbox.journal import Journal
from pipeline.mail import find_password, inbox_mail
from pipeline.mail import send as mailer
from pipeline.messages import text
from pipeline.model import Register
from pipeline.read.workbook import Workbook
from pipeline.writeback.append import LogAppend

log = logging.getLogger("pipeline")


@dataclass
class InboxRun:
    """One run's mailbox facts, carried from step to step."""
    journal: Journal | None = None
    rows: list[dict] = field(default_factory=list)     # pending rows (with their entry's key)
    facts: dict = field(default_factory=dict)          # for summary.json and the 主管


def journal_path(output: Path) -> Path:
    return output / "inbox" / "journal.jsonl"


def take_in(config: Config, register: Register, book: Workbook, output: Path, today: date,
            environ: dict, mail_args: dict | None, fetching: bool = True) -> tuple[Register, InboxRun]:
    """Fetch and judge new replies (when ``fetching``); the register with pending rows merged."""
    inbox = config.inbox
    if not inbox.host:
        return register, InboxRun()
    run = InboxRun(journal=Journal(journal_path(output)))
    if fetching:
        run.facts = _fetch(config, register, run.journal, today, environ)
        _reply_to_refused(config, run.journal, mail_args)
    log_sheet = book.sheets.get(email_rows.log_sheet_name(register))
    raw_log = log_sheet.rows if log_sheet else []
    pending = email_rows.pending_rows(run.journal.pending())
    done = email_rows.written_keys(raw_log, pending)
    if done:    # a run died after writing the register, before noting it: note it now
        run.journal.mark(sorted(done), written=datetime.now().isoformat(timespec="seconds"))
    run.rows = [r for r in pending if r["key"] not in done]
    run.facts["pending_rows"] = len(run.rows)
    return email_rows.merge(register, run.rows), run


def _fetch(config: Config, register: Register, journal: Journal, today: date, environ: dict) -> dict:
    inbox = config.inbox
    if inbox.user and not mailer.password_env_is_a_name(inbox):
        # Most likely the password itself was pasted there: never repeat it anywhere.
        line = text("inbox.password_env_not_a_name")
        log.debug(line)
        return {"status": "failed", "error": line}
    password = find_password(inbox, environ)
    if inbox.user and not password:
        line = text("inbox.no_password", env=inbox.password_env, service=inbox.host)
        log.debug(line)
        return {"status": "failed", "error": line}
    try:
        with fetch.connect(inbox, password) as box:
            messages = fetch.fetch_new(box, inbox.folder)
            # The real date, not --date: a message is dated when it was sent (at the latest, now).
            intake = judge_all(box, inbox, messages, register, journal, date.today())
    except Exception as error:      # noqa: BLE001 - any server or network failure: read next run
        line = text("inbox.unreachable", error=f"{type(error).__name__}: {error}"[:300])
        log.debug(line)
        return {"status": "failed", "error": line}
    accepted = [e for e in intake.new if e["status"] == ACCEPTED]
    refused = [e for e in intake.new if e["status"] == REFUSED]
    line = text("inbox.fetched", new=len(intake.new), accepted=len(accepted),
                rows=sum(len(e["rows"]) for e in accepted), refused=len(refused),
                folder=inbox.unreadable_folder)
    log.debug(line)     # summary.json and the terminal's summary say it
    return {"status": "ok", "line": line, "new": len(intake.new), "accepted": len(accepted),
            "refused": len(refused), "moved": intake.moved}


def _reply_to_refused(config: Config, journal: Journal, mail_args: dict | None) -> None:
    """One short reply per refused message, once (the journal and the sent-ledger both say)."""
    if mail_args is None:
        return
    # Auto-replies and bounces are never answered: two robots must not mail each other forever.
    waiting = [e for e in journal.entries.values() if e.get("status") == REFUSED and not e.get("replied")
               and e.get("sender") and not e.get("automatic")]
    if not waiting:
        return
    replies = [inbox_mail.inbox_reply(entry, config) for entry in waiting]
    delivered = mailer.deliver(replies, config.mail, **mail_args)
    for entry, delivery in zip(waiting, delivered):
        if delivery.status in ("sent", "already_sent", "outbox"):
            journal.mark([entry["key"]], replied=delivery.status)


def log_rows(register: Register, run: InboxRun) -> LogAppend | None:
    """The pending rows as the write-back appends them, or None."""
    if not run.rows:
        return None
    rows = tuple({**{k: v for k, v in r.items() if k != "key"}} for r in run.rows)
    return LogAppend(sheet=email_rows.log_sheet_name(register), headers=email_rows.log_headers(register),
                     aliases=email_rows.log_aliases(), rows=rows)


def written(run: InboxRun, status: str, register: Register) -> None:
    """After the write-back: rows written are noted; otherwise they wait for the next one."""
    if not run.rows or run.journal is None:
        return
    if status == "written":
        keys = sorted({r["key"] for r in run.rows})
        run.journal.mark(keys, written=datetime.now().isoformat(timespec="seconds"))
        run.facts["written_rows"], run.facts["pending_rows"] = len(run.rows), 0
        log.debug(text("inbox.written", rows=len(run.rows), sheet=email_rows.log_sheet_name(register)))
        run.rows = []
    else:
        log.debug(text("inbox.pending", rows=len(run.rows)))


def refused(run: InboxRun, reason: str) -> None:
    """The follow-up sheet could not take the rows (say, a table with a totals row): they wait."""
    line = text("inbox.append_refused", reason=reason)
    log.warning(line)
    run.facts["error"] = line


def for_emails(run: InboxRun, since: date, today: date) -> dict:
    """Yesterday's replies for the emails: rows recorded per rep, refusals, counts."""
    if run.journal is None:
        return {}
    recorded: dict[str, list[dict]] = {}
    refused, counted = [], Counter()
    for entry in run.journal.entries.values():
        received = (entry.get("received") or "")[:10]
        if not received or not since.isoformat() <= received <= today.isoformat():
            continue
        if entry.get("status") == ACCEPTED:
            for row in entry.get("rows", ()):
                recorded.setdefault(entry.get("rep", ""), []).append(row)
                if received < today.isoformat():
                    counted[entry.get("rep", "")] += 1
        elif entry.get("status") == REFUSED:
            refused.append(entry)
    return {"recorded": recorded, "refused": refused, "by_email": dict(counted),
            "error": run.facts.get("error", ""), "pending": len(run.rows)}
