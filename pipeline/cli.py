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
import re
import sys
import tempfile
import threading
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

from pipeline import messages, schema
from pipeline.config import Config, ConfigError, load_config
from pipeline.messages import text
from pipeline.ops import runlock, runlog, sidecar, summary
from pipeline.ops.scheduler import RunOutcome, install_signal_handlers, run_forever
from pipeline.runner import RunOptions, day_folder, poll_inbox, run_once

RUN_LOCK, SCHEDULE_LOCK = "run.lock", "schedule.lock"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_DIR / "config.toml"
log = logging.getLogger("pipeline")


class _Formatter(argparse.HelpFormatter):
    """argparse's own words ("usage:") in the configured language, like the rest of --help."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, text("cli.argparse.usage") if prefix is None else prefix)

    def add_argument(self, action):
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            wide = _wide(self._format_action_invocation(action))
            length = len(self._format_action_invocation(action)) + wide + self._current_indent
            self._action_max_length = max(self._action_max_length, length)

    def _format_action(self, action):
        # argparse pads by characters; a Chinese character takes two columns on a terminal.
        out = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        wide = _wide(invocation)
        head, found, rest = out.partition(invocation)
        if not wide or not found or rest.startswith("\n"):
            return out
        spaces = len(rest) - len(rest.lstrip(" "))
        return head + invocation + rest[min(wide, max(spaces - 2, 0)):]


def _wide(words: str) -> int:
    """How many characters of ``words`` take two columns on a terminal."""
    return sum(unicodedata.east_asian_width(ch) in "WF" for ch in words)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, text("cli.argparse.error", prog=self.prog, message=_argparse_message(message)) + "\n")


# argparse's English error messages we say in the configured language (others pass through).
_ARGPARSE_MESSAGES = (
    (re.compile(r"unrecognized arguments: (?P<args>.*)"), "cli.argparse.unrecognized"),
    (re.compile(r"argument (?P<arg>\S+): expected one argument"), "cli.argparse.expected_one"),
    (re.compile(r"argument (?P<arg>\S+): ignored explicit argument (?P<value>.*)"), "cli.argparse.no_value"),
)


def _argparse_message(message: str) -> str:
    for pattern, key in _ARGPARSE_MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            return text(key, **found.groupdict())
    return message


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="run.py", description=text("cli.help"), formatter_class=_Formatter, add_help=False)
    p._optionals.title = text("cli.argparse.options")
    p.add_argument("-h", "--help", action="help", help=text("cli.argparse.help"))
    p.add_argument("--date", metavar=text("cli.metavar.date"), help=text("cli.help.date"))
    p.add_argument("--dry-run", action="store_true", help=text("cli.help.dry_run"))
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, metavar=text("cli.metavar.file"),
                   help=text("cli.help.config"))
    p.add_argument("--register", type=Path, metavar=text("cli.metavar.file"), help=text("cli.help.register"))
    p.add_argument("--output", type=Path, metavar=text("cli.metavar.folder"), help=text("cli.help.output"))
    p.add_argument("--resend", action="store_true", help=text("cli.help.resend"))
    p.add_argument("--schedule", action="store_true", help=text("cli.help.schedule"))
    return p.parse_args(argv)


def configured_language(argv: list[str]) -> str:
    """The language of config.toml (or --config), read before --help is built; zh when unreadable
    (the config error itself is reported once the arguments are parsed)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    known, _ = pre.parse_known_args(argv)
    try:
        config = load_config(known.config if known.config.exists() or known.config != DEFAULT_CONFIG else None)
    except (ConfigError, OSError, ValueError):
        return messages.LANGUAGES[0]
    return config.locale.language


def main(argv: list[str] | None = None, environ: dict | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    messages.set_language(configured_language(argv))
    args = parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    try:
        config = load_config(args.config if args.config.exists() or args.config != DEFAULT_CONFIG else None)
        messages.set_language(config.locale.language)
        as_of = date.fromisoformat(args.date) if args.date else None
    except ConfigError as e:
        return _fail(str(e), 2)
    except ValueError:
        return _fail(text("cli.bad_date"), 2)
    if as_of and not schema.YEAR_MIN <= as_of.year <= schema.YEAR_MAX:
        return _fail(text("cli.date_out_of_range", date=args.date, first=schema.YEAR_MIN, last=schema.YEAR_MAX), 2)
    if args.schedule and args.date:
        return _fail(text("cli.schedule_with_date"), 2)
    register = args.register or config.resolve(config.register.path)
    output = args.output or config.resolve(config.output.dir)
    unusable = _unusable_output(output)
    if unusable:
        return _fail(unusable, 2)

    def options(day: date) -> RunOptions:
        return RunOptions(config=config, today=as_of or day, run_date=date.today(), register=register,
                          output=output, dry_run=args.dry_run, resend=args.resend, environ=environ,
                          register_from="cli" if args.register else "config")

    runlog.setup_logging(output / "logs", date.today(), config.schedule.keep_log_days)
    if args.schedule:
        return _schedule(config, output, options, register)
    # The register's own lock too: another install (another output folder) may be running.
    lock, busy = sidecar.acquire_run_locks(output / RUN_LOCK, register)
    if lock is None:
        return _fail(runlock.busy_message(busy), 3)
    with lock:
        outcome = run_once(options(date.today()))
    lines = _summary_lines(output, outcome.day, logging.DEBUG, args.dry_run, outcome.reason)   # the day's log keeps them too
    _print(lines, sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1


def _print(lines: list[str], stream) -> None:
    try:
        print("\n".join(lines), file=stream, flush=True)
    except BrokenPipeError:   # e.g. `python run.py | head`: the run itself went fine
        sys.stdout = open(os.devnull, "w")


def _summary_lines(output: Path, day: date, level: int, dry_run: bool = False, reason: str = "") -> list[str]:
    lines = summary.terminal_lines(_read_json(day_folder(output, day, dry_run) / "summary.json", reason))
    for line in lines:
        log.log(level, line)
    return lines


def _schedule(config: Config, output: Path, options, register: Path) -> int:
    """Stay running; each night's run takes the run lock, so a manual run cannot overlap it."""
    schedule_lock = runlock.acquire_run_lock(output / SCHEDULE_LOCK)
    if schedule_lock is None:
        return _fail(runlock.busy_message(output / SCHEDULE_LOCK), 3)

    stop = threading.Event()

    def nightly(day: date) -> RunOutcome:
        lock = wait_for_run_lock(output / RUN_LOCK, stop, register=register)
        if lock is None:   # stopped while a manual run was going
            return RunOutcome(day=day, ok=False, reason=runlock.busy_message(output / RUN_LOCK))
        with lock:
            outcome = run_once(options(day))
        _summary_lines(output, outcome.day, logging.INFO, options(day).dry_run)
        if outcome.retry_writeback is None:
            return outcome
        return replace(outcome, retry_writeback=_under_lock(output, register, outcome.retry_writeback, False),
                       give_up_writeback=_under_lock(output, register, outcome.give_up_writeback, None))

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


def wait_for_run_lock(path: Path, stop: threading.Event, poll_seconds: float = 30.0,
                      register: Path | None = None):
    """The run lock (and the register's, when given), waiting while a manual run holds it
    (the night's run comes after it, it is not skipped); None only when stopped meanwhile."""
    def take():
        return runlock.acquire_run_lock(path) if register is None else \
            sidecar.acquire_run_locks(path, register)[0]
    lock = take()
    while lock is None and not stop.wait(poll_seconds):
        lock = take()
    return lock


def _under_lock(output: Path, register: Path, step, busy):
    """``step`` run under the run locks (``busy`` when another run holds one)."""
    def locked():
        lock, _ = sidecar.acquire_run_locks(output / RUN_LOCK, register)
        if lock is None:
            return busy
        with lock:
            return step()
    return locked


def _read_json(path: Path, reason: str = "") -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):   # e.g. a full disk: the run's own reason says so
        return {"status": "failed", "failed_step": "summary" if reason else None, "error": reason or str(path)}


def _unusable_output(output: Path) -> str:
    """Why the output folder cannot take today's files (a file of that name, no write
    permission), or "" when it can; checked before anything is written there."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output):
            pass
    except (FileExistsError, NotADirectoryError):
        return text("config.output_not_folder", path=output)
    except OSError as e:
        return text("config.output_not_writable", path=output, error=e.strerror or e)
    return ""


def _fail(line: str, status: int) -> int:
    print(line, file=sys.stderr)
    return status
