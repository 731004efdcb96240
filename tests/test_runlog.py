"""Daily run logs: one UTF-8 file per day, appended to, old days pruned."""
import io
import logging
import time
from datetime import date, timedelta

import pytest

from pipeline.ops.runlog import LOGGER_NAME, log_file, prune_logs, setup_logging

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def close_handlers():
    yield
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_todays_file_gets_everything_and_the_console_info_and_up(tmp_path):
    console = io.StringIO()
    log = setup_logging(tmp_path / "logs", TODAY, 30, console=console)
    log.debug("读取台账细节")
    log.info("读取台账：120 位客户")
    log.warning("3 个数据问题")
    written = log_file(tmp_path / "logs", TODAY).read_text(encoding="utf-8")
    assert (tmp_path / "logs" / "2026-11-23.log").exists()
    for line in ("读取台账细节", "读取台账：120 位客户", "3 个数据问题"):
        assert line in written
    assert "读取台账：120 位客户" in console.getvalue()
    assert "3 个数据问题" in console.getvalue()
    assert "读取台账细节" not in console.getvalue()


def test_a_second_setup_appends_and_does_not_double_lines(tmp_path):
    log = setup_logging(tmp_path, TODAY, 30, console=io.StringIO())
    log.info("第一次运行")
    console = io.StringIO()
    log = setup_logging(tmp_path, TODAY, 30, console=console)
    log.info("第二次运行")
    written = log_file(tmp_path, TODAY).read_text(encoding="utf-8")
    assert written.count("第一次运行") == 1
    assert written.count("第二次运行") == 1
    assert console.getvalue().count("第二次运行") == 1


def test_tracebacks_reach_the_file(tmp_path):
    log = setup_logging(tmp_path, TODAY, 30, console=io.StringIO())
    try:
        raise ValueError("坏的日期")
    except ValueError:
        log.exception("运行出错")
    written = log_file(tmp_path, TODAY).read_text(encoding="utf-8")
    assert "Traceback" in written and "ValueError: 坏的日期" in written


@pytest.mark.parametrize("keep_days, oldest_kept_age", [(30, 29), (1, 0), (7, 6)])
def test_old_day_files_are_pruned_and_other_files_kept(tmp_path, keep_days, oldest_kept_age):
    for age in range(0, 41):
        log_file(tmp_path, TODAY - timedelta(days=age)).write_text("x", encoding="utf-8")
    for name in ("notes.txt", "backup.log", "2026-02-30.log"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    setup_logging(tmp_path, TODAY, keep_days, console=io.StringIO())
    kept = {p.name for p in tmp_path.iterdir()}
    expected_days = {log_file(tmp_path, TODAY - timedelta(days=a)).name
                     for a in range(oldest_kept_age + 1)}
    assert kept == expected_days | {"notes.txt", "backup.log", "2026-02-30.log"}


def test_prune_reports_what_it_removed(tmp_path):
    old = log_file(tmp_path, TODAY - timedelta(days=30))
    old.write_text("x", encoding="utf-8")
    assert prune_logs(tmp_path, TODAY, 30) == [old]
    assert not old.exists()


def test_a_scheduler_running_past_midnight_writes_the_next_days_file_and_prunes(tmp_path):
    log_file(tmp_path, TODAY - timedelta(days=29)).write_text("x", encoding="utf-8")
    log = setup_logging(tmp_path, TODAY, 30, console=io.StringIO())
    tomorrow_record = log.makeRecord(LOGGER_NAME, logging.INFO, __file__, 1,
                                     "第二天的运行", None, None)
    tomorrow_record.created = time.time() + 24 * 3600
    log.handle(tomorrow_record)
    tomorrow = log_file(tmp_path, TODAY + timedelta(days=1))
    assert "第二天的运行" in tomorrow.read_text(encoding="utf-8")
    assert "第二天的运行" not in log_file(tmp_path, TODAY).read_text(encoding="utf-8")
    assert not log_file(tmp_path, TODAY - timedelta(days=29)).exists()
