"""Progress for the long steps of a run: bars on a terminal, plain lines in a log.

On an interactive terminal ``progress`` shows a tqdm bar and ``stage`` shows
the stage's name while it works; when the output goes to a file or a scheduler
(not a terminal), each finishes with one plain line such as
``读取台账… 完成 (3.2 秒)``, so logs stay readable.
"""
from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

from tqdm import tqdm

from pipeline.messages import text

T = TypeVar("T")


def is_interactive(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:      # a closed stream
        return False


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str,
             stream: TextIO | None = None) -> Iterator[T]:
    """Yield the items of ``iterable`` while showing progress on ``stream`` (default stdout: progress is not an error)."""
    stream = stream if stream is not None else sys.stdout
    if is_interactive(stream):
        yield from tqdm(iterable, total=total, desc=desc, file=stream, leave=True)
        return
    started = time.perf_counter()
    yield from iterable
    _finished_line(stream, desc, started, ok=True)


class Step:
    """What ``stage`` yields: a step that ran but did not do its job says so (``not_done``)."""

    def __init__(self) -> None:
        self.outcome: tuple[str, str] | None = None

    def not_done(self, word: str, reason: str) -> None:
        """E.g. ("未写回", "客户台账正被 王强 打开"): the line says that instead of 完成."""
        self.outcome = (word, short_reason(reason))


def short_reason(reason: str) -> str:
    """The first clause of a one-line reason, for the progress line (the full one follows)."""
    return re.split(text("progress.reason_cut"), reason, maxsplit=1)[0].strip()


@contextmanager
def stage(desc: str, *, stream: TextIO | None = None) -> Iterator[Step]:
    """Show one stage of a run: its name while it works, then how it ended and how long it took."""
    stream = stream if stream is not None else sys.stdout
    interactive = is_interactive(stream)
    if interactive:
        _say(stream, f"{desc}…")
    started = time.perf_counter()
    ok = False
    step = Step()
    try:
        yield step
        ok = True
    finally:
        if interactive:
            _say(stream, "\r")
        _finished_line(stream, desc, started, ok=ok, outcome=step.outcome)


def _finished_line(stream: TextIO, desc: str, started: float, *, ok: bool,
                   outcome: tuple[str, str] | None = None) -> None:
    seconds = time.perf_counter() - started
    if ok and outcome:
        line = text("progress.not_done", desc=desc, word=outcome[0], reason=outcome[1], seconds=seconds)
    else:
        line = text("progress.done" if ok else "progress.failed", desc=desc, seconds=seconds)
    _say(stream, line + "\n")


def _say(stream: TextIO, words: str) -> None:
    # Progress is a courtesy: a closed or broken terminal must never stop the night's run.
    try:
        stream.write(words)
        stream.flush()
    except (OSError, ValueError):
        pass
