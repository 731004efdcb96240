"""Safety checks around the shared register: who has it open, did it change, backups.

Excel, WPS and LibreOffice each leave a small lock file next to a workbook they have
open.  Writing the register while one exists would either fail on the share or, worse,
be silently overwritten when that person saves; so the writeback refuses and says who
holds it.  Stale lock files (left by a crash) also refuse: the message names the file
so the owner can delete it.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.writeback.files import replace_synced, write_synced

_MSO_NAME_MAX = 52


@dataclass(frozen=True)
class FileSnapshot:
    """What the register looked like when the run read it."""

    size: int
    mtime_ns: int
    sha256: str


def snapshot(path: Path) -> FileSnapshot:
    """Size, modification time and content hash of ``path`` (taken before reading it)."""
    stat = os.stat(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return FileSnapshot(stat.st_size, stat.st_mtime_ns, digest.hexdigest())


def lock_file_names(name: str) -> list[str]:
    """Every lock-file name an office program may create for the workbook ``name``.

    Excel and WPS on Windows: ``~$name``; Word-style owner files drop the first two
    characters of long names, and some Office builds do that for workbooks too, so both
    spellings count.  LibreOffice: ``.~lock.name#``.  WPS on Linux: ``.~name``.
    """
    names = ["~$" + name, ".~lock." + name + "#", ".~" + name]
    if len(name) > 2:
        names.append("~$" + name[2:])
    return names


def find_lock(path: Path) -> tuple[Path, str | None] | None:
    """The lock file that says the register is open, and who holds it if it says."""
    try:
        present = {entry.name.casefold(): entry.name for entry in os.scandir(path.parent)}
    except OSError:
        return None
    for candidate in lock_file_names(path.name):
        actual = present.get(candidate.casefold())
        if actual is not None:
            lock = path.parent / actual
            return lock, lock_owner(lock)
    return None


def lock_owner(lock: Path) -> str | None:
    """The user name written in a lock file, or None when it does not say."""
    try:
        data = lock.read_bytes()[:4096]
    except OSError:
        return None
    if lock.name.startswith(".~lock."):
        return _libreoffice_owner(data)
    return _office_owner(data)


def _libreoffice_owner(data: bytes) -> str | None:
    """LibreOffice writes one CSV line: ``office user,system user,host,time,profile;``."""
    fields, current, escaped = [], "", False
    for char in data.decode("utf-8", errors="replace"):
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char in ",;":
            fields.append(current)
            current = ""
            if char == ";":
                break
        else:
            current += char
    names = [field.strip() for field in fields[:2] if field.strip()]
    return names[0] if names else None


def _office_owner(data: bytes) -> str | None:
    """Excel/WPS owner file: a length byte and the ANSI name, then a UTF-16 copy.

    The UTF-16 copy (length word at offset 55 for Excel, 54 for Word) is preferred
    because the ANSI copy depends on the writer's code page.
    """
    if len(data) < 2 or not 0 < data[0] <= _MSO_NAME_MAX:
        return None
    length = data[0]
    for offset in (55, 54):
        if len(data) >= offset + 2 + 2 * length and data[offset] == length:
            name = data[offset + 2:offset + 2 + 2 * length].decode("utf-16-le", errors="replace")
            if name.strip() and "\ufffd" not in name:
                return name.strip()
    for encoding in ("utf-8", "gbk"):
        try:
            return data[1:1 + length].decode(encoding).strip() or None
        except UnicodeDecodeError:
            continue
    return None


def make_backup(data: bytes, register: Path, backup_dir: Path, stamp: str, keep: int) -> Path:
    """Write ``data`` (the current register) as a dated backup and drop the oldest ones.

    Names are ``<stem>.<stamp><suffix>``, with ``_2``, ``_3``... when a run repeats
    the same stamp; the newest ``keep`` backups (at least one) of this register stay.
    A repeat is numbered above every backup of that stamp still there, so the names
    keep saying which is newest after older ones were pruned.
    """
    backup_dir.mkdir(parents=True, exist_ok=True)
    prefix_length = len(register.stem) + 1
    repeats = [number for name, number in (_stamp_and_repeat(p, prefix_length)
                                           for p in backups_of(register, backup_dir))
               if name == stamp]
    counter = max(repeats, default=0) + 1
    while True:
        suffix = "" if counter == 1 else f"_{counter}"
        target = backup_dir / f"{register.stem}.{stamp}{suffix}{register.suffix}"
        if not target.exists():
            break
        counter += 1
    # Written under a temporary name and renamed: a run killed mid-copy leaves no
    # truncated file under a backup's name (the next run overwrites the leftover).
    temporary = backup_dir / f".{target.name}.pipeline-tmp"
    try:
        write_synced(temporary, data)
        replace_synced(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    prune_backups(register, backup_dir, keep)
    return target


def backups_of(register: Path, backup_dir: Path) -> list[Path]:
    """This register's backups, oldest first (stamps start with a digit).

    Ordered by the stamp in the name, then the repeat number: file times change when
    the backup folder is copied or restored, and then the newest would be pruned."""
    prefix = register.stem + "."
    found = [p for p in backup_dir.glob(f"*{register.suffix}")
             if p.name.startswith(prefix) and p.name[len(prefix):len(prefix) + 1].isdigit()]
    return sorted(found, key=lambda p: (*_stamp_and_repeat(p, len(prefix)), p.name))


def _stamp_and_repeat(backup: Path, prefix_length: int) -> tuple[str, int]:
    """'x.2026-11-23_2.xlsx' -> ('2026-11-23', 2); the first of a stamp is number 1.
    Stamps are ISO dates, so they sort as text."""
    stamp = backup.name[prefix_length:len(backup.name) - len(backup.suffix)]
    base, _, counter = stamp.rpartition("_")
    return (base, int(counter)) if counter.isdigit() and base else (stamp, 1)


def prune_backups(register: Path, backup_dir: Path, keep: int) -> None:
    for old in backups_of(register, backup_dir)[:-max(keep, 1)]:
        old.unlink(missing_ok=True)
