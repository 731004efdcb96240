"""One nightly run, start to finish: the flow a newcomer should read first.

    read the register  ->  validate  ->  rule stages  ->  report.xlsx (in its own process)
                       ->  write back into the register (unless --dry-run)
                       ->  emails (send, or the outbox)  ->  summary.json

Only this module and the modules it calls at the edges (workbook, writeback, report,
mailer, summary) touch files, the clock or the network; the stages in between are
pure.  Whatever happens, summary.json is written, naming the step that failed (and
when even that cannot be written, e.g. the disk is full, the run ends with that one line).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from pipeline import demo, mailbox
from pipeline.config import Config, RegisterConfig
from pipeline.dates import WorkCalendar
from pipeline.mail import compose as emails
from pipeline.mail import find_password
from pipeline.mail import send as mailer
from pipeline.messages import text
from pipeline.model import Problem, State
from pipeline.ops import background, sidecar, summary
from pipeline.ops.progress import progress, stage
from pipeline.ops.scheduler import RunOutcome
from pipeline.read import RegisterError, read_workbook, used_sheets, validate
from pipeline.report import place as report_file
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
    register_from: str = "config"                 # "cli" (--register) or "config" (config.toml / its default)


def day_folder(output: Path, day: date, dry_run: bool) -> Path:
    """output/<date>/, or output/<date>/dry-run/ so a dry run never overwrites the real run's files."""
    return output / day.isoformat() / "dry-run" if dry_run else output / day.isoformat()


def run_once(opts: RunOptions) -> RunOutcome:
    """Run the whole pipeline once; problems in the data are reported, not fatal."""
    unwritable: list[str] = []
    outcome = _run_once(opts, unwritable)
    if unwritable:   # the shop must hear that the output folder is full or gone; summary.json last,
        return replace(outcome, ok=False, reason=unwritable[-1])   # the one that says the most
    return outcome


def _run_once(opts: RunOptions, unwritable: list[str]) -> RunOutcome:
    facts = summary.start(opts)
    day_dir = day_folder(opts.output, opts.today, opts.dry_run)
    report = written = None
    try:
        state, problems, snap, inbox = _compute(opts, facts)
        written = report_file.temporary_name(day_dir / "report.xlsx")
        report = background.start(_write_report, written, state, problems, name="report")
        retry, give_up = _write_back(opts, state, snap, facts, inbox)
        _send_emails(opts, state, problems, facts, inbox)
        facts["step"] = "report"   # written beside the steps above; its failure is known here
        try:
            report.wait()
            placed, note = report_file.place(written, day_dir / "report.xlsx")
            facts["report"] = str(placed)
            if note:
                facts["report_note"] = note
        except background.Unwritable:   # a full disk: the rest of the night stands, one line says it
            facts["report_error"] = text("run.report_unwritable", path=day_dir)
            unwritable.append(facts["report_error"])
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
            if report.ok and written.exists():   # ...and give it its name: it is still today's report
                _quietly(lambda: report_file.place(written, day_dir / "report.xlsx"))
            elif not report.ok:   # a half-written report never carries a name (nor stays behind)
                written.unlink(missing_ok=True)
        _write_summary(day_dir / "summary.json", facts, unwritable)


def _write_summary(path: Path, facts: dict, unwritable: list[str]) -> None:
    try:
        summary.write(path, facts)
    except OSError as e:   # e.g. the output disk is full: one line, not a traceback
        unwritable.append(text("run.summary_unwritable", path=path, error=e))
        path.unlink(missing_ok=True)   # an earlier "running" copy would tell a wrong story


def poll_inbox(opts: RunOptions) -> dict:
    """Between nights (--schedule): read the follow-up mailbox, answer refusals, journal the
    rows; the register is written by the night's run, not here (a rep may have it open)."""
    book = read_workbook(opts.register, wanted=used_sheets(opts.config))
    register, _ = validate(book, opts.config, opts.run_date)
    _, inbox = mailbox.take_in(opts.config, register, book, opts.output, opts.today, opts.environ,
                               _delivery_args(opts))
    return inbox.facts


def _quietly(step) -> None:
    try:
        step()
    except background.Unwritable:   # a full disk, said elsewhere; the details are in the log file
        log.debug("report could not be written", exc_info=True)
    except Exception:
        log.exception("report failed")


def _write_report(path: Path, state: State, problems: list[Problem]) -> None:
    with stage(text("run.step.report")):
        write_report(path, state, problems)


def _compute(opts: RunOptions, facts: dict):
    """(state, problems, the register's snapshot as read, the mailbox's facts)."""
    facts["step"] = "read"
    config = opts.config
    if not opts.register.exists():
        if not _may_create_demo(opts):
            raise RegisterError(text(f"register.missing_from_{opts.register_from}", path=opts.register))
        opts.register.parent.mkdir(parents=True, exist_ok=True)
        with stage(text("run.step.demo")):
            demo.write_demo_register(opts.register, opts.today)
        facts["demo_created"] = True
    if opts.register.is_dir():   # a typo too: the folder was named, not the file in it
        raise RegisterError(text(f"register.folder_from_{opts.register_from}", path=opts.register))
    try:
        snap = writeback.snapshot(opts.register) if opts.register.exists() else None
    except OSError as e:   # e.g. no permission to read it: the shop's to fix, in one line
        raise RegisterError(text("register.unreadable", path=opts.register, error=e)) from None
    sheets = read_workbook(opts.register, wanted=used_sheets(config),
                           each=lambda names: progress(names, total=len(names), desc=text("run.step.read")))
    facts["step"] = "validate"
    with stage(text("run.step.validate")):
        register, problems = validate(sheets, config, opts.run_date)
    facts["step"] = "inbox"     # replies by email join the log before the rules (issue 13)
    register, inbox = mailbox.take_in(config, register, sheets, opts.output, opts.today, opts.environ,
                                      _delivery_args(opts) if config.inbox.host else None,
                                      fetching=not opts.dry_run)   # a dry run leaves the mailbox alone
    if inbox.facts:
        facts["inbox"] = inbox.facts
    facts["step"] = "rules"
    state, rule_problems = run_stages(State.start(register, opts.today, opts.run_date), config,
                                      each=lambda stages: progress(stages, total=len(stages),
                                                                   desc=text("run.step.rules")))
    return state, problems + rule_problems, snap, inbox


def _may_create_demo(opts: RunOptions) -> bool:
    """The demo shop is made only for a fresh clone: at the default path, never at a path
    someone typed (a typo there must not become a made-up shop that mails made-up reps)."""
    default = opts.config.resolve(RegisterConfig().path)
    return (opts.register_from == "config" and opts.config.register.create_demo_if_missing
            and opts.register.resolve() == default.resolve())


def _write_back(opts: RunOptions, state: State, snap, facts: dict, inbox=None):
    """Update the register; when a lock file refused it, also (retry, give_up) for the scheduler.
    ``inbox`` is the mailbox step's run (None: no rows from email to append)."""
    facts["step"] = "writeback"
    inbox = inbox if inbox is not None else mailbox.InboxRun()
    if opts.dry_run:
        facts["writeback"] = {"status": "skipped", "reason": text("run.writeback.dry_run")}
        return None, None
    columns = writeback.computed_columns(state)
    backup_dir = opts.output / "backups"

    summary_path = day_folder(opts.output, opts.today, opts.dry_run) / "summary.json"

    def attempt() -> writeback.WriteResult:
        rows = mailbox.log_rows(state.register, inbox)     # replies by email (issue 13)
        try:
            with stage(text("run.step.writeback")) as step:
                def update(log):
                    return writeback.update_register(
                        opts.register, state.register.sheet_name("customers"), columns, read_snapshot=snap,
                        backup_dir=backup_dir, keep_backups=opts.config.output.keep_backups,
                        stamp=opts.today.isoformat(), signed=opts.config.register.signed, log=log)
                result = update(rows)
                if result.reason_code.startswith("log_"):   # the log cannot take the rows: they wait,
                    mailbox.refused(inbox, result.reason)   # the computed columns are still written
                    rows = None
                    result = update(None)
                if result.status == "refused":   # the line must not say 完成 when nothing was written
                    step.not_done(text("progress.not_written"), result.reason)
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
        delivered = mailer.deliver(notices, opts.config.mail, **_delivery_args(opts))
        facts["writeback"]["notices"] = [d.status for d in delivered]
        summary.write(summary_path, facts)
    return retry, give_up


def _send_emails(opts: RunOptions, state: State, problems: list[Problem], facts: dict, inbox=None) -> None:
    facts["step"] = "emails"
    config = opts.config
    common, why_not = _mail_args(opts)
    notes = [why_not, common.pop("ledger_note")]
    if any(notes):
        facts["mail_note"] = " ".join(filter(None, notes))
    with stage(text("run.step.emails")):
        # A rep without an address, or whose email cannot be built or sent, gets a
        # "failed" delivery: reported like any other, the others' emails go on.
        replies = mailbox.for_emails(inbox, emails.previous_working_day(opts.today, config), opts.today) \
            if inbox is not None else {}

        def key_of(kind):
            return lambda d: (emails.email_key(kind, opts.today, d.rep), d.email, d.rep)
        rep_mail, delivered = mailer.compose_each([d for d in state.days if d.role != ROLE_MANAGER],
                                                  lambda d: emails.rep_email(d, state, config, replies),
                                                  key_of("rep"))
        delivered += mailer.deliver(rep_mail, config.mail, **common)
        run_facts = {"writeback": facts.get("writeback", {}), "register": opts.register.name,
                     "failed_deliveries": mailer.failed_deliveries(delivered, rep_mail), "inbox": replies}
        owner_mail, failed = mailer.compose_each(
            [d for d in state.days if d.role == ROLE_MANAGER],
            lambda d: emails.owner_email(d, state, problems, run_facts, config), key_of("owner"))
        delivered += failed + mailer.deliver(owner_mail, config.mail, **common)
    facts["emails"] = [{"to": d.to, "name": d.name, "key": d.key, "status": d.status, "error": d.error}
                       for d in delivered]
    facts["email_totals"] = mailer.delivery_summary(delivered)


def _delivery_args(opts: RunOptions) -> dict:
    """What mailer.deliver takes for an email outside the morning's (the ledger's note is
    the morning's to report)."""
    common, _ = _mail_args(opts)
    common.pop("ledger_note")
    return common


def _mail_args(opts: RunOptions) -> tuple[dict, str]:
    """How today's emails go: sent, or into the outbox (with the one-line reason why)."""
    config = opts.config
    working = WorkCalendar(country=config.locale.country, weekend=config.locale.weekend).is_working_day(opts.today)
    outbox = day_folder(opts.output, opts.today, opts.dry_run) / "outbox"
    # The keyring is only asked when the mail would really go (it may show an unlock dialog).
    may_send = config.mail.host and not opts.dry_run and (working or config.mail.send_on_days_off)
    password = find_password(config.mail, opts.environ) if may_send else None
    send, why_not = mailer.send_decision(config.mail, working_day=working, dry_run=opts.dry_run,
                                         password=password, outbox=outbox)
    return dict(day=opts.today, outbox=outbox, send=send, resend=opts.resend, password=password,
                **_ledgers(opts)), why_not


def _ledgers(opts: RunOptions) -> dict:
    """The sent-ledger beside the register (seen by every install on it); the output
    folder's, where earlier versions kept it, is still read.  ``ledger_note`` says when
    the folder beside the register cannot be used."""
    in_output = opts.output / sidecar.LEDGER
    folder, error = sidecar.ensure_sidecar(opts.register)
    if folder is None:
        note = text("mail.ledger_moved", sidecar=sidecar.sidecar_dir(opts.register), error=error)
        log.warning(note)
        # A folder this install may read but not write: another install's sent emails are still
        # in it, and must not go a second time.
        beside = sidecar.sidecar_dir(opts.register) / sidecar.LEDGER
        return {"ledger": in_output, "earlier_ledgers": (beside,) if beside.exists() else (), "ledger_note": note}
    return {"ledger": folder / sidecar.LEDGER, "earlier_ledgers": (in_output,), "ledger_note": ""}
