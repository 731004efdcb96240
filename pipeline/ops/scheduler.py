"""The unattended nightly run (``run.py --schedule``, issue #7).

``run_forever`` stays running and calls the run job once a day at
``[schedule] time``.  When it starts after that time on a day whose run has not
happened yet (the computer was off in the night), it runs at once.  A failed
run is logged and the loop carries on to the next night.  When a run could not
write the register because someone had it open, the write-back is retried every
``lock_retry_minutes`` until ``lock_retry_until``, then given up.

The daily trigger is the ``schedule`` library's (a ``Scheduler`` of our own,
``every().day.at(time)``), polled in naps of at most ``NAP_SECONDS`` so a stop
request is noticed.  The library never runs a time that passed while nothing
was polling, so the catch-up on start, and after a run that lasted past the next
night's time, is ours: ``next_run_time`` says whether a day is owed a run.  The
last day that ran is kept in a small JSON state file so a restart the same day
does not run twice.

Everything reads the clock with ``datetime.now()``, as the library does
internally with no way to hand it another clock.  That is why the tests move
time with ``time-machine`` (which changes what ``datetime.now()`` returns) and
pass a ``sleep`` that shifts it, instead of injecting a fake ``now``.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import schedule

from pipeline.config import ScheduleConfig
from pipeline.messages import text

# Longest single sleep: how soon a stop request or a jump of the computer's clock
# (waking from sleep) is noticed.
NAP_SECONDS = 5.0


@dataclass(frozen=True)
class RunOutcome:
    """What one run reports back to the scheduler."""
    day: date
    ok: bool
    reason: str = ""            # one line when not ok
    # Set when the register was locked: try the in-place update again; True when
    # it finally wrote (or no longer needs to).
    retry_writeback: Callable[[], bool] | None = None
    # Called once when the deadline passes without success.
    give_up_writeback: Callable[[], None] | None = None


def parse_clock(hhmm: str) -> clock_time:
    hours, minutes = hhmm.split(":")
    return clock_time(int(hours), int(minutes))


def run_time_on(day: date, hhmm: str, like: datetime) -> datetime:
    """``hhmm`` on ``day``, naive or aware like ``like``."""
    return datetime.combine(day, parse_clock(hhmm), tzinfo=like.tzinfo)


def next_run_time(now: datetime, hhmm: str, last_run_day: date | None) -> datetime:
    """When the next run is due: today's time unless today already ran, else tomorrow's.

    A moment at or before ``now`` means "due now" (today's time has passed and
    today has not run: catch up).
    """
    today = now.date()
    if last_run_day is not None and last_run_day >= today:
        return run_time_on(today + timedelta(days=1), hhmm, now)
    return run_time_on(today, hhmm, now)


def read_last_run_day(state_file: Path) -> date | None:
    """The last day a scheduled run happened, or None (never, or unreadable state)."""
    try:
        data = json.loads(Path(state_file).read_text(encoding="utf-8"))
        return date.fromisoformat(data["last_run_day"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_run(state_file: Path, outcome: RunOutcome, finished_at: datetime) -> None:
    """Remember that ``outcome.day`` ran (even if it failed: it is not redone the same day)."""
    state_file = Path(state_file)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    data = {"last_run_day": outcome.day.isoformat(), "ok": outcome.ok,
            "reason": outcome.reason, "finished_at": finished_at.isoformat(timespec="seconds")}
    temporary = state_file.with_name(state_file.name + ".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temporary, state_file)   # never a half-written state file


def install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """Make Ctrl-C / SIGTERM set ``stop``; a second one aborts at once.

    Only possible in the main thread (elsewhere it does nothing).  Returns a
    function that puts the previous handlers back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        try:    # not logging: the signal may have interrupted a log call holding its lock
            print(text("schedule.stopping"), file=sys.stderr, flush=True)
        except (RuntimeError, OSError, ValueError):     # reentrant write: skip the notice
            pass

    names = ("SIGINT", "SIGTERM", "SIGBREAK")   # SIGBREAK: Ctrl-Break on Windows
    previous = {}
    for name in names:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, handle)

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return restore


def run_forever(job: Callable[[date], RunOutcome], config: ScheduleConfig, *,
                state_file: Path, sleep: Callable[[float], None] = time.sleep,
                stop: threading.Event | None = None,
                log: logging.Logger | None = None,
                poll: Callable[[], None] | None = None, poll_minutes: int = 15) -> None:
    """Run ``job(today)`` every day at ``config.time`` until ``stop`` is set; ``poll()``
    (the follow-up mailbox, issue 13) every ``poll_minutes`` in between."""
    stop = stop if stop is not None else threading.Event()
    log = log if log is not None else logging.getLogger("pipeline")
    nightly = _Nightly(job, config, state_file, _Clock(sleep, stop), log)
    scheduler = schedule.Scheduler()    # our own, not the library's module-wide one
    scheduler.every().day.at(config.time).do(nightly.run_owed_days)
    if poll is not None:
        scheduler.every(poll_minutes).minutes.do(_quietly, poll, log)
    log.info(text("schedule.started", time=config.time))
    nightly.run_owed_days()     # the library does not run a time that passed before it started
    announced = None
    while not stop.is_set():
        scheduler.run_pending()
        if scheduler.next_run != announced:
            announced = scheduler.next_run
            log.info(text("schedule.next_run",
                          when=nightly.next_run(announced).strftime("%Y-%m-%d %H:%M")))
        nap = min(scheduler.idle_seconds, NAP_SECONDS)
        if nap > 0:
            sleep(nap)
    log.info(text("schedule.stopped"))


class _Nightly:
    """The daily job: runs each day that is owed a run, once, remembering it in the state file."""

    def __init__(self, job: Callable[[date], RunOutcome], config: ScheduleConfig,
                 state_file: Path, clock: _Clock, log: logging.Logger):
        self.job, self.config, self.state_file = job, config, state_file
        self.clock, self.log = clock, log
        self.ran_day = None     # also kept here so an unwritable state file cannot cause a rerun

    def last_run_day(self) -> date | None:
        return max(filter(None, (read_last_run_day(self.state_file), self.ran_day)), default=None)

    def next_run(self, triggered_at: datetime) -> datetime:
        """When the next run really happens: a trigger on a day that already ran is skipped."""
        return max(triggered_at, next_run_time(datetime.now(), self.config.time,
                                               self.last_run_day()))

    def run_owed_days(self) -> None:
        """Run today if its time has passed and it has not run yet, also when late.

        Called by the library at the daily time, and once at start to catch up a
        night the computer was off.  It loops because a run that lasts past the
        next day's time (which the library then skips) owes that day a run too.
        """
        while not self.clock.stopped():
            current = datetime.now()
            due = next_run_time(current, self.config.time, self.last_run_day())
            if due > current:
                return
            if current - due >= timedelta(minutes=1):
                self.log.info(text("schedule.catching_up", day=current.date().isoformat(),
                                   time=self.config.time))
            self.ran_day = current.date()
            _run_once(self.job, self.ran_day, self.config, self.state_file, self.clock, self.log)


class _Clock:
    """The injected sleep plus the stop event: sleep in short naps until a moment."""

    def __init__(self, sleep: Callable[[float], None], stop: threading.Event):
        self._sleep, self._stop = sleep, stop

    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_until(self, moment: datetime) -> bool:
        """Sleep until ``moment``; False when stopped before it came."""
        while not self._stop.is_set():
            remaining = (moment - datetime.now()).total_seconds()
            if remaining <= 0:
                return True
            self._sleep(min(remaining, NAP_SECONDS))
        return False


def _quietly(step: Callable[[], None], log: logging.Logger) -> None:
    """A poll that fails is logged; the next one tries again."""
    try:
        step()
    except Exception as error:     # noqa: BLE001
        log.exception(text("schedule.poll_crashed", error=error))


def _run_once(job: Callable[[date], RunOutcome], day: date, config: ScheduleConfig,
              state_file: Path, clock: _Clock, log: logging.Logger) -> None:
    log.info(text("schedule.run_started", day=day.isoformat()))
    try:
        outcome = job(day)
    except Exception as error:     # a bug in one night's run must not end the scheduler
        log.exception(text("schedule.run_crashed", day=day.isoformat(), error=error))
        outcome = RunOutcome(day, ok=False, reason=f"{type(error).__name__}: {error}")
    else:
        if outcome.ok:
            log.info(text("schedule.run_ok", day=day.isoformat()))
        else:
            log.error(text("schedule.run_failed", day=day.isoformat(), reason=outcome.reason))
    try:
        record_run(state_file, RunOutcome(day, outcome.ok, outcome.reason), datetime.now())
    except OSError as error:
        log.error(text("schedule.state_unwritable", path=state_file, error=error))
    if outcome.retry_writeback is not None:
        _retry_writeback(outcome, config, clock, log)


def _retry_writeback(outcome: RunOutcome, config: ScheduleConfig, clock: _Clock,
                     log: logging.Logger) -> None:
    """Try the register write-back every few minutes until the deadline, then give up.

    The last try is at the deadline itself.  Being stopped, or the retry itself
    failing with an error, also gives up: the register stays not updated either way.
    """
    every = timedelta(minutes=config.lock_retry_minutes)
    deadline = run_time_on(outcome.day, config.lock_retry_until, datetime.now())
    attempt = datetime.now()
    while attempt < deadline:
        attempt = min(attempt + every, deadline)
        log.info(text("schedule.writeback_waiting", minutes=config.lock_retry_minutes,
                      when=attempt.strftime("%H:%M"), until=config.lock_retry_until))
        if not clock.wait_until(attempt):
            log.warning(text("schedule.writeback_stopped"))
            break
        try:
            if outcome.retry_writeback():
                log.info(text("schedule.writeback_done"))
                return
        except Exception as error:
            log.exception(text("schedule.writeback_crashed", error=error))
            break
    else:
        log.warning(text("schedule.writeback_given_up", until=config.lock_retry_until))
    if outcome.give_up_writeback is not None:
        try:
            outcome.give_up_writeback()
        except Exception as error:
            log.exception(text("schedule.give_up_crashed", error=error))
