"""The nightly scheduler (issue #7), under time-machine: time only moves when it sleeps.

The ``schedule`` library reads ``datetime.now()`` itself, so the clock is moved
with time-machine rather than injected.
"""
import json
import logging
import signal
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from pipeline.config import ScheduleConfig
from pipeline.ops.scheduler import (
    RunOutcome,
    install_signal_handlers,
    next_run_time,
    read_last_run_day,
    run_forever,
)

CONFIG = ScheduleConfig()   # 06:30, retry every 15 minutes until 08:30


class FakeClock:
    """Time stands still until the scheduler sleeps; stops the loop at ``stop_at``."""

    def __init__(self, traveller, stop_at: datetime):
        self.traveller = traveller
        self.stop_at = stop_at
        self.stop = threading.Event()
        self.naps = 0

    @property
    def time(self) -> datetime:
        return datetime.now()

    def pass_time(self, delta: timedelta) -> None:
        self.traveller.shift(delta)
        if self.time >= self.stop_at:
            self.stop.set()

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the scheduler must never busy-wait"
        self.naps += 1
        assert self.naps < 200_000, "runaway loop"
        self.pass_time(timedelta(seconds=seconds))


@contextmanager
def travelling(start: datetime, stop_at: datetime):
    """Local time is ``start`` (TZ set to UTC so naive local times are these) until the block ends."""
    with time_machine.travel(start.replace(tzinfo=timezone.utc), tick=False) as traveller:
        yield FakeClock(traveller, stop_at)


class Shop:
    """The job: records when it ran and answers with scripted outcomes (default ok)."""

    def __init__(self, clock: FakeClock, answers=()):
        self.clock = clock
        self.answers = list(answers)
        self.runs: list[tuple[date, datetime]] = []

    def __call__(self, day: date) -> RunOutcome:
        self.runs.append((day, self.clock.time))
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer(day) if callable(answer) else RunOutcome(day, ok=True)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm)


def drive(tmp_path, start, stop_at, answers=(), config=CONFIG, log=None):
    with travelling(start, stop_at) as clock:
        shop = Shop(clock, answers)
        run_forever(shop, config, state_file=tmp_path / "output" / "schedule.json",
                    sleep=clock.sleep, stop=clock.stop, log=log)
        clock.stopped_at = clock.time
    return shop, clock


@pytest.mark.parametrize(
    "now, last_run_day, expected",
    [
        (at(23, 5), None, at(23, 6, 30)),               # before the time: today's run
        (at(23, 9), None, at(23, 6, 30)),               # after it, never ran: due (in the past)
        (at(23, 9), date(2026, 11, 22), at(23, 6, 30)),  # machine was off last night: due
        (at(23, 9), date(2026, 11, 23), at(24, 6, 30)),  # ran today: tomorrow
        (at(23, 5), date(2026, 11, 23), at(24, 6, 30)),  # ran today already (early manual start)
        (datetime(2026, 12, 31, 7), date(2026, 12, 31), datetime(2027, 1, 1, 6, 30)),
    ],
)
def test_next_run_time(now, last_run_day, expected):
    assert next_run_time(now, "06:30", last_run_day) == expected


def test_runs_every_night_at_the_configured_time(tmp_path):
    shop, _ = drive(tmp_path, at(23, 5), at(25, 7))
    assert shop.runs == [(date(2026, 11, 23), at(23, 6, 30)), (date(2026, 11, 24), at(24, 6, 30)),
                         (date(2026, 11, 25), at(25, 6, 30))]


def test_a_missed_night_is_caught_up_at_start(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    shop, _ = drive(tmp_path, at(23, 9, 10), at(24, 7))
    assert shop.runs == [(date(2026, 11, 23), at(23, 9, 10)), (date(2026, 11, 24), at(24, 6, 30))]
    assert "补做" in caplog.text


def test_a_day_that_already_ran_is_not_run_again_after_a_restart(tmp_path):
    drive(tmp_path, at(23, 6), at(23, 10))
    assert read_last_run_day(tmp_path / "output" / "schedule.json") == date(2026, 11, 23)
    shop, _ = drive(tmp_path, at(23, 10, 5), at(24, 7))
    assert shop.runs == [(date(2026, 11, 24), at(24, 6, 30))]


def test_an_unreadable_state_file_counts_as_never_ran(tmp_path):
    state = tmp_path / "output" / "schedule.json"
    state.parent.mkdir()
    state.write_text("{not json", encoding="utf-8")
    shop, _ = drive(tmp_path, at(23, 9), at(23, 10))
    assert shop.runs == [(date(2026, 11, 23), at(23, 9))]
    assert read_last_run_day(state) == date(2026, 11, 23)


def test_a_run_that_raises_is_logged_and_the_next_night_runs(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    shop, _ = drive(tmp_path, at(23, 6), at(24, 7), answers=[RuntimeError("台账读不出来")])
    assert [day for day, _ in shop.runs] == [date(2026, 11, 23), date(2026, 11, 24)]
    crashed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(crashed) == 1 and "台账读不出来" in crashed[0].getMessage()
    assert crashed[0].exc_info is not None     # the traceback reaches the log file


def test_a_failed_run_is_logged_with_its_reason_and_recorded(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    failed = lambda day: RunOutcome(day, ok=False, reason="找不到台账 input/客户台账.xlsx")
    shop, _ = drive(tmp_path, at(23, 6), at(23, 12), answers=[failed])
    assert len(shop.runs) == 1
    assert "找不到台账 input/客户台账.xlsx" in caplog.text
    state = json.loads((tmp_path / "output" / "schedule.json").read_text(encoding="utf-8"))
    assert state["last_run_day"] == "2026-11-23" and state["ok"] is False
    assert state["reason"] == "找不到台账 input/客户台账.xlsx"


def test_a_run_longer_than_a_day_is_never_started_twice_at_once(tmp_path):
    active = []

    def slow_job(day):
        assert not active, "a run started while another was running"
        active.append(day)
        clock.pass_time(timedelta(hours=25))      # runs past the next night's 06:30
        active.pop()
        return RunOutcome(day, ok=True)

    runs = []
    with travelling(at(23, 6), at(25, 7)) as clock:
        run_forever(lambda day: runs.append((day, clock.time)) or slow_job(day), CONFIG,
                    state_file=tmp_path / "s.json", sleep=clock.sleep, stop=clock.stop)
    # The 23rd's run ends on the 24th at 07:30: the 24th's run follows it, not alongside it.
    assert runs == [(date(2026, 11, 23), at(23, 6, 30)), (date(2026, 11, 24), at(24, 7, 30))]


class Register:
    """A register that someone keeps open until ``free_after`` retries."""

    def __init__(self, clock: FakeClock, free_after: int | None = None):
        self.clock = clock
        self.free_after = free_after
        self.tries: list[datetime] = []
        self.given_up: list[datetime] = []

    def outcome(self, day: date) -> RunOutcome:
        return RunOutcome(day, ok=True, retry_writeback=self.retry,
                          give_up_writeback=lambda: self.given_up.append(self.clock.time))

    def retry(self) -> bool:
        self.tries.append(self.clock.time)
        return self.free_after is not None and len(self.tries) >= self.free_after


def drive_locked(tmp_path, start, stop_at, free_after=None, config=CONFIG):
    with travelling(start, stop_at) as clock:
        register = Register(clock, free_after)
        shop = Shop(clock, [register.outcome])
        run_forever(shop, config, state_file=tmp_path / "s.json",
                    sleep=clock.sleep, stop=clock.stop)
    return shop, register


def test_a_locked_register_is_retried_every_15_minutes_then_given_up_at_the_deadline(tmp_path):
    shop, register = drive_locked(tmp_path, at(23, 6), at(24, 7))
    assert register.tries == [at(23, 6, 45) + timedelta(minutes=15 * n) for n in range(8)]
    assert register.tries[-1] == at(23, 8, 30)
    assert register.given_up == [at(23, 8, 30)]
    assert [day for day, _ in shop.runs] == [date(2026, 11, 23), date(2026, 11, 24)]


def test_a_register_freed_in_time_is_written_and_not_given_up(tmp_path):
    _, register = drive_locked(tmp_path, at(23, 6), at(23, 12), free_after=3)
    assert register.tries == [at(23, 6, 45), at(23, 7), at(23, 7, 15)]
    assert register.given_up == []


def test_the_last_try_is_at_the_deadline_when_the_interval_does_not_divide(tmp_path):
    config = ScheduleConfig(time="06:30", lock_retry_minutes=25, lock_retry_until="07:30")
    _, register = drive_locked(tmp_path, at(23, 6), at(23, 12), config=config)
    assert register.tries == [at(23, 6, 55), at(23, 7, 20), at(23, 7, 30)]
    assert register.given_up == [at(23, 7, 30)]


def test_a_catch_up_run_after_the_deadline_gives_up_at_once(tmp_path):
    _, register = drive_locked(tmp_path, at(23, 9), at(23, 12))
    assert register.tries == []
    assert register.given_up == [at(23, 9)]


def test_stopping_while_waiting_to_retry_gives_up_and_ends_the_loop(tmp_path):
    shop, register = drive_locked(tmp_path, at(23, 6), at(23, 7, 5))
    assert register.tries == [at(23, 6, 45), at(23, 7)]
    assert len(register.given_up) == 1
    assert len(shop.runs) == 1


def test_a_stop_before_the_run_time_runs_nothing(tmp_path):
    shop, clock = drive(tmp_path, at(23, 5), at(23, 6))
    assert shop.runs == []
    assert clock.stopped_at < at(23, 6, 30)


def test_a_signal_sets_stop_and_a_second_one_aborts():
    stop = threading.Event()
    restore = install_signal_handlers(stop)
    try:
        signal.raise_signal(signal.SIGTERM)
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    finally:
        restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_signal_handlers_are_left_alone_outside_the_main_thread():
    before = signal.getsignal(signal.SIGTERM)
    stop = threading.Event()
    worker = threading.Thread(target=lambda: install_signal_handlers(stop)())
    worker.start()
    worker.join()
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_next_run_is_announced_and_the_library_default_scheduler_is_left_alone(tmp_path, caplog):
    import schedule
    caplog.set_level(logging.INFO)
    drive(tmp_path, at(23, 5), at(23, 7))
    announced = [r.getMessage() for r in caplog.records if "下一次运行" in r.getMessage()]
    assert announced == ["下一次运行：2026-11-23 06:30", "下一次运行：2026-11-24 06:30"]
    assert schedule.jobs == []


def test_a_day_that_already_ran_before_its_time_is_skipped_and_tomorrow_announced(tmp_path, caplog):
    # e.g. [schedule] time was moved later after today's run: today's trigger must not rerun.
    drive(tmp_path, at(23, 4), at(23, 4, 1), config=ScheduleConfig(time="04:00"))
    caplog.set_level(logging.INFO)
    shop, _ = drive(tmp_path, at(23, 5), at(24, 7))
    assert shop.runs == [(date(2026, 11, 24), at(24, 6, 30))]
    assert "下一次运行：2026-11-24 06:30" in caplog.text
    assert "下一次运行：2026-11-23 06:30" not in caplog.text


def test_the_mailbox_is_polled_every_poll_minutes_and_a_failed_poll_does_not_stop_it(tmp_path, caplog):
    polls = []

    def poll():
        polls.append(datetime.now())
        if len(polls) == 2:
            raise OSError("mailbox down")

    with travelling(at(23, 7), at(23, 8, 1)) as clock:
        shop = Shop(clock)
        run_forever(shop, CONFIG, state_file=tmp_path / "s.json", sleep=clock.sleep, stop=clock.stop,
                    poll=poll, poll_minutes=15)
    assert [p.strftime("%H:%M") for p in polls] == ["07:15", "07:30", "07:45", "08:00"]
    assert len(shop.runs) == 1
    assert "mailbox down" in caplog.text
