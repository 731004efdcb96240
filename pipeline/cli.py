"""The command line of spec §5: parse the options, then run once or stay scheduled.

Exit status: 0 when the run finished (problems in the data are reported, not fatal);
1 when the run stopped (one line says why); 2 for a bad command line or config;
3 when another run is already going.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

from pipeline import messages
from pipeline.config import Config, ConfigError, load_config
from pipeline.messages import text
from pipeline.ops import runlock, runlog, summary
from pipeline.ops.scheduler import RunOutcome, install_signal_handlers, run_forever
from pipeline.runner import RunOptions, poll_inbox, run_once

RUN_LOCK, SCHEDULE_LOCK = "run.lock", "schedule.lock"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_DIR / "config.toml"
log = logging.getLogger("pipeline")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="run.py", description=text("cli.help"))
    p.add_argument("--date", help=text("cli.help.date"))
    p.add_argument("--dry-run", action="store_true", help=text("cli.help.dry_run"))
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=text("cli.help.config"))
    p.add_argument("--register", type=Path, help=text("cli.help.register"))
    p.add_argument("--output", type=Path, help=text("cli.help.output"))
    p.add_argument("--resend", action="store_true", help=text("cli.help.resend"))
    p.add_argument("--schedule", action="store_true", help=text("cli.help.schedule"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None, environ: dict | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    environ = dict(os.environ if environ is None else environ)
    try:
        config = load_config(args.config if args.config.exists() or args.config != DEFAULT_CONFIG else None)
        messages.set_language(config.locale.language)
        as_of = date.fromisoformat(args.date) if args.date else None
    except ConfigError as e:
        return _fail(str(e), 2)
    except ValueError:
        return _fail(text("cli.bad_date"), 2)
    if args.schedule and args.date:
        return _fail(text("cli.schedule_with_date"), 2)
    register = args.register or config.resolve(config.register.path)
    output = args.output or config.resolve(config.output.dir)

    def options(day: date) -> RunOptions:
        return RunOptions(config=config, today=as_of or day, run_date=date.today(), register=register,
                          output=output, dry_run=args.dry_run, resend=args.resend, environ=environ)

    runlog.setup_logging(output / "logs", date.today(), config.schedule.keep_log_days)
    if args.schedule:
        return _schedule(config, output, options)
    lock = runlock.acquire_run_lock(output / RUN_LOCK)
    if lock is None:
        return _fail(runlock.busy_message(output / RUN_LOCK), 3)
    with lock:
        outcome = run_once(options(date.today()))
    lines = _summary_lines(output, outcome.day, logging.DEBUG)   # the day's log keeps them too
    _print(lines, sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1


def _print(lines: list[str], stream) -> None:
    try:
        print("\n".join(lines), file=stream, flush=True)
    except BrokenPipeError:   # e.g. `python run.py | head`: the run itself went fine
        sys.stdout = open(os.devnull, "w")


def _summary_lines(output: Path, day: date, level: int) -> list[str]:
    lines = summary.terminal_lines(_read_json(output / day.isoformat() / "summary.json"))
    for line in lines:
        log.log(level, line)
    return lines


def _schedule(config: Config, output: Path, options) -> int:
    """Stay running; each night's run takes the run lock, so a manual run cannot overlap it."""
    schedule_lock = runlock.acquire_run_lock(output / SCHEDULE_LOCK)
    if schedule_lock is None:
        return _fail(runlock.busy_message(output / SCHEDULE_LOCK), 3)

    stop = threading.Event()

    def nightly(day: date) -> RunOutcome:
        lock = wait_for_run_lock(output / RUN_LOCK, stop)
        if lock is None:   # stopped while a manual run was going
            return RunOutcome(day=day, ok=False, reason=runlock.busy_message(output / RUN_LOCK))
        with lock:
            outcome = run_once(options(day))
        _summary_lines(output, outcome.day, logging.INFO)
        if outcome.retry_writeback is None:
            return outcome
        return replace(outcome, retry_writeback=_under_lock(output, outcome.retry_writeback, False),
                       give_up_writeback=_under_lock(output, outcome.give_up_writeback, None))

    # Between nights the follow-up mailbox is read every [inbox] poll_minutes (issue 13).
    poll = _under_lock(output, lambda: poll_inbox(options(date.today())), None) if config.inbox.host else None
    restore = install_signal_handlers(stop)
    try:
        with schedule_lock:
            run_forever(nightly, config.schedule, state_file=output / "schedule-state.json", stop=stop,
                        poll=poll, poll_minutes=config.inbox.poll_minutes)
    except KeyboardInterrupt:
        return 130
    finally:
        restore()
    return 0


def wait_for_run_lock(path: Path, stop: threading.Event, poll_seconds: float = 30.0):
    """The run lock, waiting while a manual run holds it (the night's run comes after it,
    it is not skipped); None only when stopped meanwhile."""
    lock = runlock.acquire_run_lock(path)
    while lock is None and not stop.wait(poll_seconds):
        lock = runlock.acquire_run_lock(path)
    return lock


def _under_lock(output: Path, step, busy):
    """``step`` run under the run lock (``busy`` when another run holds it)."""
    def locked():
        lock = runlock.acquire_run_lock(output / RUN_LOCK)
        if lock is None:
            return busy
        with lock:
            return step()
    return locked


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"status": "failed", "error": str(path)}


def _fail(line: str, status: int) -> int:
    print(line, file=sys.stderr)
    return status
