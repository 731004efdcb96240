"""One nightly run, start to finish: the flow a newcomer should read first.

    read the register  ->  validate  ->  rule stages  ->  report.xlsx (in its own process)
                       ->  write back into the register (unless --dry-run)
                       ->  emails (send, or the outbox)  ->  summary.json

Only this module and the modules it calls at the edges (workbook, writeback, report,
mailer, summary) touch files, the clock or the network; the stages in between are
pure.  Whatever happens, summary.json is written, naming the step that failed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import demo, mailbox
from pipeline.config import Config
from pipeline.dates import WorkCalendar
from pipeline.mail import compose as emails
from pipeline.mail import find_password
from pipeline.mail import send as mailer
from pipeline.messages import text
from pipeline.model import Problem, State
from pipeline.ops import background, summary
from pipeline.ops.progress import progress, stage
from pipeline.ops.scheduler import RunOutcome
from pipeline.read import RegisterError, read_workbook, validate
from pipeline.report import write_report
from pipeline.rules import run_stages
from pipeline.schema import ROLE_MANAGER
from pipeline.writeback import update as writeback

log = logging.getLogger("pipeline")


@dataclass(frozen=True)
class RunOptions:
    config: Config
    today: date                 # T, the as-of date (--date)
    run_date: date              # the real date of the run
    register: Path
    output: Path
    dry_run: bool = False
    resend: bool = False
    environ: dict = field(default_factory=dict)   # for the mail password; never read inside stages


def run_once(opts: RunOptions) -> RunOutcome:
    """Run the whole pipeline once; problems in the data are reported, not fatal."""
    facts = summary.start(opts)
    day_dir = opts.output / opts.today.isoformat()
    report = None
    try:
        state, problems, snap, inbox = _compute(opts, facts)
        report = background.start(_write_report, day_dir / "report.xlsx", state, problems, name="report")
        retry, give_up = _write_back(opts, state, snap, facts, inbox)
        _send_emails(opts, state, problems, facts, inbox)
        facts["step"] = "report"   # written beside the steps above; its failure is known here
        report.wait()
        facts["report"] = str(day_dir / "report.xlsx")
        summary.finish(facts, state, problems)
        return RunOutcome(day=opts.today, ok=True, retry_writeback=retry, give_up_writeback=give_up)
    except RegisterError as e:
        summary.fail(facts, str(e))
        return RunOutcome(day=opts.today, ok=False, reason=str(e))
    except Exception as e:   # a bug: keep the traceback in the log, a line for the shop
        log.exception("run failed")
        summary.fail(facts, text("run.bug", error=f"{type(e).__name__}: {e}"))
        return RunOutcome(day=opts.today, ok=False, reason=facts["error"])
    finally:
        if report is not None:   # when a step failed meanwhile, let the report finish (no-op otherwise)
            _quietly(report.wait)
        summary.write(day_dir / "summary.json", facts)


def poll_inbox(opts: RunOptions) -> dict:
    """Between nights (--schedule): read the follow-up mailbox, answer refusals, journal the
    rows; the register is written by the night's run, not here (a rep may have it open)."""
    register, _ = validate(read_workbook(opts.register), opts.config, opts.run_date)
    _, inbox = mailbox.take_in(opts.config, register, {}, opts.output, opts.today, opts.environ,
                               _mail_args(opts)[0])
    return inbox.facts


def _quietly(step) -> None:
    try:
        step()
    except Exception:
        log.exception("report failed")


def _write_report(path: Path, state: State, problems: list[Problem]) -> None:
    with stage(text("run.step.report")):
        write_report(path, state, problems)


def _compute(opts: RunOptions, facts: dict):
    """(state, problems, the register's snapshot as read, the mailbox's facts)."""
    facts["step"] = "read"
    config = opts.config
    if not opts.register.exists() and config.register.create_demo_if_missing:
        opts.register.parent.mkdir(parents=True, exist_ok=True)
        with stage(text("run.step.demo")):
            demo.write_demo_register(opts.register, opts.today)
        facts["demo_created"] = True
    snap = writeback.snapshot(opts.register) if opts.register.exists() else None
    sheets = read_workbook(opts.register, each=lambda names: progress(names, total=len(names),
                                                                      desc=text("run.step.read")))
    facts["step"] = "validate"
    with stage(text("run.step.validate")):
        register, problems = validate(sheets, config, opts.run_date)
    facts["step"] = "inbox"     # replies by email join the log before the rules (issue 13)
    register, inbox = mailbox.take_in(config, register, sheets, opts.output, opts.today, opts.environ,
                                      _mail_args(opts)[0] if config.inbox.host else None,
                                      fetching=not opts.dry_run)   # a dry run leaves the mailbox alone
    if inbox.facts:
        facts["inbox"] = inbox.facts
    facts["step"] = "rules"
    state, rule_problems = run_stages(State.start(register, opts.today, opts.run_date), config,
                                      each=lambda stages: progress(stages, total=len(stages),
                                                                   desc=text("run.step.rules")))
    return state, problems + rule_problems, snap, inbox


def _write_back(opts: RunOptions, state: State, snap, facts: dict, inbox=None):
    """Update the register; when a lock file refused it, also (retry, give_up) for the scheduler."""
    facts["step"] = "writeback"
    if opts.dry_run:
        facts["writeback"] = {"status": "skipped", "reason": text("run.writeback.dry_run")}
        return None, None
    columns = writeback.computed_columns(state)
    backup_dir = opts.output / "backups"

    summary_path = opts.output / opts.today.isoformat() / "summary.json"

    def attempt() -> writeback.WriteResult:
        rows = mailbox.log_rows(state.register, inbox)     # replies by email (issue 13)
        try:
            with stage(text("run.step.writeback")):
                def update(log):
                    return writeback.update_register(
                        opts.register, state.register.sheet_name("customers"), columns, read_snapshot=snap,
                        backup_dir=backup_dir, keep_backups=opts.config.output.keep_backups,
                        stamp=opts.today.isoformat(), log=log)
                result = update(rows)
                if result.reason_code.startswith("log_"):   # the log cannot take the rows: they wait,
                    mailbox.refused(inbox, result.reason)   # the computed columns are still written
                    rows = None
                    result = update(None)
        except Exception as e:   # disk full, a part it cannot read…: the emails must still go out
            log.exception("write-back failed")   # the register is untouched: the new file replaces it atomically
            result = writeback.WriteResult("refused", text("run.writeback.os_error", error=e), "os_error", None, None)
        facts["writeback"] = {"status": result.status, "reason": result.reason, "reason_code": result.reason_code,
                              "lock_owner": result.lock_owner, "backup": str(result.backup or "")}
        if inbox is not None:
            mailbox.written(inbox, result.status if rows is not None else "not_written", state.register)
            if inbox.facts:
                facts["inbox"] = inbox.facts
        summary.write(summary_path, facts)
        return result

    if attempt().reason_code != "locked":
        return None, None

    def retry() -> bool:
        # Only a written (or already up-to-date) register ends the retries.  A file the
        # staff saved meanwhile is refused as changed: their edits win, and the 主管 is
        # told at the deadline; tomorrow's run writes.
        return attempt().status in ("written", "unchanged")

    def give_up() -> None:
        reason = facts["writeback"]["reason"]
        log.warning(text("run.writeback.gave_up", reason=reason))
        notices = [emails.writeback_notice(d, opts.today, reason, opts.register.name, opts.config)
                   for d in state.days if d.role == ROLE_MANAGER]
        delivered = mailer.deliver(notices, opts.config.mail, **_mail_args(opts)[0])
        facts["writeback"]["notices"] = [d.status for d in delivered]
        summary.write(summary_path, facts)
    return retry, give_up


def _send_emails(opts: RunOptions, state: State, problems: list[Problem], facts: dict, inbox=None) -> None:
    facts["step"] = "emails"
    config = opts.config
    common, why_not = _mail_args(opts)
    if why_not:
        facts["mail_note"] = why_not
    with stage(text("run.step.emails")):
        # A rep without an address gets a "failed" delivery: reported like any other.
        replies = mailbox.for_emails(inbox, emails.previous_working_day(opts.today, config), opts.today) \
            if inbox is not None else {}
        rep_mail = [emails.rep_email(d, state, config, replies) for d in state.days if d.role != ROLE_MANAGER]
        delivered = mailer.deliver(rep_mail, config.mail, **common)
        run_facts = {"writeback": facts.get("writeback", {}), "register": opts.register.name,
                     "failed_deliveries": mailer.failed_deliveries(delivered, rep_mail), "inbox": replies}
        owner_mail = [emails.owner_email(d, state, problems, run_facts, config) for d in state.days
                      if d.role == ROLE_MANAGER]
        delivered += mailer.deliver(owner_mail, config.mail, **common)
    facts["emails"] = [{"to": d.to, "key": d.key, "status": d.status, "error": d.error} for d in delivered]
    facts["email_totals"] = mailer.delivery_summary(delivered)


def _mail_args(opts: RunOptions) -> tuple[dict, str]:
    """How today's emails go: sent, or into the outbox (with the one-line reason why)."""
    config = opts.config
    working = WorkCalendar(country=config.locale.country, weekend=config.locale.weekend).is_working_day(opts.today)
    outbox = opts.output / opts.today.isoformat() / "outbox"
    # The keyring is only asked when the mail would really go (it may show an unlock dialog).
    may_send = config.mail.host and not opts.dry_run and (working or config.mail.send_on_days_off)
    password = find_password(config.mail, opts.environ) if may_send else None
    send, why_not = mailer.send_decision(config.mail, working_day=working, dry_run=opts.dry_run,
                                         password=password, outbox=outbox)
    return dict(day=opts.today, outbox=outbox, ledger=opts.output / "sent-ledger.jsonl",
                send=send, resend=opts.resend, password=password), why_not
