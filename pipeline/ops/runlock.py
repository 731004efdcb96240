"""One run at a time: an operating-system lock on a small file under output/.

The lock is taken with ``fcntl.flock`` (Linux, macOS) or ``msvcrt.locking``
(Windows) on an open handle, so the operating system drops it the moment the
holding process ends, even when it crashed or was killed: a lock file left behind
by a dead run is never "stale", the next run simply takes it.  The file itself is
never deleted (deleting it would let two runs lock two different files).
Its text says who took it last (process id and start time), for the
"already running" message.
"""
from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pipeline.messages import text

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

# Windows locks byte ranges and a locked range cannot be read by others, so the
# lock sits on one byte far past the holder text (locking past the end of a file
# is allowed there).
_WINDOWS_LOCK_OFFSET = 1 << 20


class RunLock:
    """A held run lock; release it with ``release()`` or by leaving a ``with`` block."""

    def __init__(self, path: Path, handle: BinaryIO):
        self.path = path
        self._handle: BinaryIO | None = handle

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        try:
            _unlock(handle)
        finally:
            handle.close()

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def acquire_run_lock(path: Path) -> RunLock | None:
    """Take the run lock at ``path`` without waiting; None when another run holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # "a+b" creates the file if missing and never truncates what the holder wrote.
    handle = open(path, "a+b")
    try:
        if not _try_lock(handle):
            handle.close()
            return None
        _write_holder(handle)
    except BaseException:
        handle.close()
        raise
    return RunLock(path, handle)


def lock_holder(path: Path) -> dict | None:
    """What the lock file says about its (last) holder: {"pid": 1234, "started": "2026-11-23 06:30:00"}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and {"pid", "started"} <= data.keys() else None


def busy_message(path: Path) -> str:
    """The one line the command line prints when ``acquire_run_lock`` returned None."""
    holder = lock_holder(path)
    if holder is None:
        return text("runlock.busy_unknown")
    host = holder.get("host")
    if host and host != socket.gethostname():   # another install on a shared register
        return text("runlock.busy_elsewhere", host=host, pid=holder["pid"], started=holder["started"])
    return text("runlock.busy", pid=holder["pid"], started=holder["started"])


def _write_holder(handle: BinaryIO) -> None:
    started = datetime.now().isoformat(sep=" ", timespec="seconds")
    handle.seek(0)
    handle.truncate()
    holder = {"pid": os.getpid(), "started": started, "host": socket.gethostname()}
    handle.write(json.dumps(holder, ensure_ascii=False).encode("utf-8"))
    handle.flush()


if sys.platform == "win32":
    def _try_lock(handle: BinaryIO) -> bool:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: BinaryIO) -> None:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    def _try_lock(handle: BinaryIO) -> bool:
        # flock (not fcntl/lockf): it belongs to this open handle, so a second
        # acquire inside the same process is refused too.
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: BinaryIO) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
