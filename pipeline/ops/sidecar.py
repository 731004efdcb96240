"""The register's sidecar folder: the run lock and the sent-ledger, kept beside the register.

Two installs on one register (a second PC with its own output folder) must see each
other's run and each other's sent emails, or both send every email.  So the run lock
and the sent-ledger live in a hidden folder next to the register, named from its file
name (``客户台账.xlsx`` -> ``.客户台账.pipeline/``), as well as under output/.  A link
to the register is followed first: two PCs may reach the one file by different paths.
When the folder cannot be made (a read-only share), output/ alone is used and the run
says so.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from pipeline.ops import runlock

LEDGER = "sent-ledger.jsonl"
RUN_LOCK = "run.lock"


def sidecar_dir(register: Path) -> Path:
    target = Path(os.path.realpath(register))
    return target.parent / f".{target.stem}.pipeline"


def ensure_sidecar(register: Path) -> tuple[Path | None, str]:
    """The sidecar folder, made if missing: (folder, "") or (None, why it cannot be)."""
    folder = sidecar_dir(register)
    try:
        folder.mkdir(exist_ok=True)   # not its parents: a mistyped path must not make folders
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        return None, f"{type(e).__name__}: {e}"
    _hide(folder)
    return folder, ""


def _hide(folder: Path) -> None:
    """Hidden on Windows too (a leading dot hides it elsewhere)."""
    if sys.platform == "win32":
        import ctypes
        ctypes.windll.kernel32.SetFileAttributesW(str(folder), 0x2)   # FILE_ATTRIBUTE_HIDDEN


class RunLocks:
    """Several run locks held together, released in reverse order."""

    def __init__(self, locks: list[runlock.RunLock]):
        self.locks = locks

    def release(self) -> None:
        while self.locks:
            self.locks.pop().release()

    def __enter__(self) -> RunLocks:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def acquire_run_locks(output_lock: Path, register: Path) -> tuple[RunLocks | None, Path]:
    """The output folder's run lock and the register's; (None, the busy lock's path) when
    another run (on this PC or another install) holds one of them."""
    folder, _ = ensure_sidecar(register)
    paths = [output_lock] + ([folder / RUN_LOCK] if folder else [])
    held: list[runlock.RunLock] = []
    for path in paths:
        lock = runlock.acquire_run_lock(path)
        if lock is None:
            RunLocks(held).release()
            return None, path
        held.append(lock)
    return RunLocks(held), paths[0]
