"""Putting the finished report under its name, even when that name is taken.

The owner often has yesterday's or today's report.xlsx open in Excel, which on Windows
locks the file: writing over it fails.  So the report is written to a temporary name in
the same folder first (``temporary_name``) and then renamed in one step (``place``);
when report.xlsx cannot be replaced, the report goes to ``report (2).xlsx`` (then (3)…)
and the run says so in one line.  A half-written report never carries the real name.
"""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.messages import text

MAX_TRIES = 50


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def place(written: Path, path: Path) -> tuple[Path, str]:
    """(where the report now is, a one-line note when that is not ``path``, else "")."""
    for number in range(1, MAX_TRIES + 1):
        target = path if number == 1 else path.with_name(f"{path.stem} ({number}){path.suffix}")
        if number > 1 and target.exists():
            continue   # an earlier run's numbered copy: keep it
        try:
            os.replace(written, target)
        except OSError:
            continue
        return target, "" if number == 1 else text("report.name_taken", wanted=path.name, path=target)
    written.unlink(missing_ok=True)
    raise OSError(text("report.no_name", path=path))
