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


class Background:
    """A started step; ``wait()`` returns when it is done and raises if it failed."""

    def __init__(self, process: multiprocessing.Process | None, name: str):
        self._process, self._name = process, name

    def wait(self) -> None:
        """Join the step; a second call returns at once (the failure is raised once)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"{self._name} failed in its own process (exit code {process.exitcode})")


def start(step: Callable[..., object], *args, name: str) -> Background:
    if "fork" not in multiprocessing.get_all_start_methods():
        step(*args)
        return Background(None, name)
    process = multiprocessing.get_context("fork").Process(target=_child, args=(step, args, name), name=name)
    process.start()
    return Background(process, name)


def _child(step: Callable[..., object], args: tuple, name: str) -> None:
    try:
        step(*args)
    except BaseException:
        log.exception("%s failed", name)
        os._exit(1)
