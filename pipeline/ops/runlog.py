"""Run logs: one UTF-8 file per day under output/logs/, old days removed.

``setup_logging`` wires the "pipeline" logger: everything (DEBUG and up, with
tracebacks) goes to ``<log_dir>/<YYYY-MM-DD>.log``, appended to when the day's
file exists; the console shows INFO and up.  A scheduler that stays running for
weeks keeps writing: each record goes to the file of the day it was logged on,
and on each new day the files older than ``keep_days`` are removed.
"""
from __future__ import annotations

import logging
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

LOGGER_NAME = "pipeline"
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.log$")
_FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONSOLE_FORMAT = "%(asctime)s %(message)s"


def log_file(log_dir: Path, day: date) -> Path:
    return Path(log_dir) / f"{day.isoformat()}.log"


def prune_logs(log_dir: Path, today: date, keep_days: int) -> list[Path]:
    """Remove day files older than the last ``keep_days`` days (today counts as one).

    Only files named like ``2026-11-23.log`` are touched; returns what was removed.
    """
    oldest_kept = today - timedelta(days=keep_days - 1)
    removed = []
    for path in sorted(Path(log_dir).glob("*.log")):
        match = _DAY_FILE.match(path.name)
        if not match:
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        if day < oldest_kept:
            try:
                path.unlink()
            except OSError:
                continue    # open elsewhere (Windows) or already gone: next day retries
            removed.append(path)
    return removed


class DailyFileHandler(logging.Handler):
    """Writes each record to the file of its own day, pruning when the day changes.

    The first file is named by the ``today`` given; later days follow the
    computer's calendar from there (a record logged one real day later goes to
    ``today + 1``), so a caller's notion of today and the file names agree.
    """

    def __init__(self, log_dir: Path, today: date, keep_days: int):
        super().__init__(logging.DEBUG)
        self.log_dir = Path(log_dir)
        self.keep_days = keep_days
        self._shift = today - date.today()
        self._day: date | None = None
        self._stream: TextIO | None = None
        self._open(today)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            day = datetime.fromtimestamp(record.created).date() + self._shift
            if day > self._day:
                self._open(day)
            self._stream.write(self.format(record) + "\n")
            self._stream.flush()
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        # A full or vanished log folder must not print a traceback per line: the console
        # still shows every line that matters.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handleError(record)

    def close(self) -> None:
        self.acquire()
        try:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        finally:
            self.release()
        super().close()

    def _open(self, day: date) -> None:
        if self._stream is not None:
            self._stream.close()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._day = day
        self._stream = open(log_file(self.log_dir, day), "a", encoding="utf-8")
        prune_logs(self.log_dir, day, self.keep_days)


def setup_logging(log_dir: Path, today: date, keep_days: int, *,
                  console: TextIO | None = None) -> logging.Logger:
    """The "pipeline" logger, writing to today's file in ``log_dir`` and to the console.

    Calling it again (a new day, another output folder) replaces the handlers it
    added before instead of doubling every line.  ``console`` defaults to stderr.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if getattr(h, "_runlog", False)]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.DEBUG)
    logger.propagate = False    # the root logger must not print each line a second time

    file_handler = DailyFileHandler(log_dir, today, keep_days)
    file_handler.setFormatter(logging.Formatter(_FILE_FORMAT, "%Y-%m-%d %H:%M:%S"))
    console_handler = logging.StreamHandler(console if console is not None else sys.stderr)
    console_handler.setLevel(logging.INFO)
    console_handler.setFormatter(logging.Formatter(_CONSOLE_FORMAT, "%H:%M:%S"))
    for handler in (file_handler, console_handler):
        handler._runlog = True
        logger.addHandler(handler)
    return logger
