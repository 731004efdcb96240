"""Progress for the long steps of a run: bars on a terminal, plain lines in a log.

On an interactive terminal ``progress`` shows a tqdm bar and ``stage`` shows
the stage's name while it works; when the output goes to a file or a scheduler
(not a terminal), each finishes with one plain line such as
``读取台账… 完成 (3.2 秒)``, so logs stay readable.
"""
from __future__ import annotations

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


@contextmanager
def stage(desc: str, *, stream: TextIO | None = None) -> Iterator[None]:
    """Show one stage of a run: its name while it works, then how long it took."""
    stream = stream if stream is not None else sys.stdout
    interactive = is_interactive(stream)
    if interactive:
        _say(stream, f"{desc}…")
    started = time.perf_counter()
    ok = False
    try:
        yield
        ok = True
    finally:
        if interactive:
            _say(stream, "\r")
        _finished_line(stream, desc, started, ok=ok)


def _finished_line(stream: TextIO, desc: str, started: float, *, ok: bool) -> None:
    seconds = time.perf_counter() - started
    key = "progress.done" if ok else "progress.failed"
    _say(stream, text(key, desc=desc, seconds=seconds) + "\n")


def _say(stream: TextIO, words: str) -> None:
    # Progress is a courtesy: a closed or broken terminal must never stop the night's run.
    try:
        stream.write(words)
        stream.flush()
    except (OSError, ValueError):
        pass
