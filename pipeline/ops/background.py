"""Run one independent step of the night (writing the report) beside the others.

The machine has more than one core and the report workbook takes as long to write
as the register's update: with ``fork`` (Linux, macOS) the child gets the finished
State without copying or pickling it, and the parent goes on with the write-back and
the emails.  Where ``fork`` is not available (Windows) the step simply runs in-line.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable

log = logging.getLogger("pipeline")


# The child's exit status when its file could not be written (a full disk): not a bug.
UNWRITABLE = 3


class Unwritable(Exception):
    """The step's file could not be written (the disk is full or the folder read-only); see the log."""


class Background:
    """A started step; ``wait()`` returns when it is done and raises if it failed.
    ``ok`` stays False after a failure, so a half-written file is never taken for a result."""

    def __init__(self, process: multiprocessing.Process | None, name: str, failure: Exception | None = None):
        self._process, self._name, self._failure = process, name, failure
        self.ok = process is None and failure is None

    def wait(self) -> None:
        """Join the step; a second call returns at once (the failure is raised once)."""
        process, self._process = self._process, None
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        if process is None:
            return
        process.join()
        self.ok = process.exitcode == 0
        if process.exitcode == UNWRITABLE:
            raise Unwritable(self._name)
        if process.exitcode != 0:
            raise RuntimeError(f"{self._name} failed in its own process (exit code {process.exitcode})")


def start(step: Callable[..., object], *args, name: str) -> Background:
    if "fork" not in multiprocessing.get_all_start_methods():
        try:
            step(*args)
        except Exception as e:
            if not _disk(e):
                raise
            log.debug("%s could not be written", name, exc_info=True)
            return Background(None, name, Unwritable(name))
        return Background(None, name)
    process = multiprocessing.get_context("fork").Process(target=_child, args=(step, args, name), name=name)
    process.start()
    return Background(process, name)


def _child(step: Callable[..., object], args: tuple, name: str) -> None:
    try:
        step(*args)
    except BaseException as e:
        if _disk(e):   # the parent says it in one line; the details go to the log file only
            log.debug("%s could not be written", name, exc_info=True)
            os._exit(UNWRITABLE)
        log.exception("%s failed", name)
        os._exit(1)


def _disk(e: BaseException) -> bool:
    """An OSError, or a library's own error raised while handling one (xlsxwriter's FileCreateError)."""
    return isinstance(e, OSError) or isinstance(e.__context__, OSError)
