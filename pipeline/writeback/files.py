"""Putting a file in place on the shared folder: the real file behind a link, its owner and
mode kept, and a rename that survives a power cut.

The register is often reached through a symbolic link (the shared folder mounted
elsewhere); replacing the link with a private copy would leave the shared file stale for
good, so the file the link points at is the one replaced.  A new file is written under a
temporary name next to its target, given the target's mode and (where the OS lets us)
its owner and group, flushed, and renamed over the target; the folder is then flushed
too, or a power cut could forget the rename.  Backups use the same steps, so a run killed
mid-copy never leaves a truncated file under a backup's name.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path


def real_file(path: Path) -> Path:
    """The file ``path`` names once every symbolic link on the way is followed."""
    return Path(os.path.realpath(path))


def write_synced(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` and flush it to disk (``exclusive``: the name must be new)."""
    with open(path, "xb" if exclusive else "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def take_over_ownership(source: os.stat_result, path: Path) -> None:
    """Give ``path`` the mode, owner and group ``source`` had.

    The mode always; the owner only where the OS allows it (root, or the file's own
    user keeping the group), otherwise the group alone, otherwise nothing more: a run
    under the shop's own account then leaves the file as that account's, as any save would.
    """
    os.chmod(path, stat.S_IMODE(source.st_mode))
    if not hasattr(os, "chown"):
        return
    for uid, gid in ((source.st_uid, source.st_gid), (-1, source.st_gid)):
        try:
            os.chown(path, uid, gid)
            break
        except OSError:
            continue
    # chown clears set-user/group-id bits on some systems: put the mode back once more.
    os.chmod(path, stat.S_IMODE(source.st_mode))


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def replace_synced(temporary: Path, target: Path) -> None:
    """Rename ``temporary`` over ``target`` atomically and flush the folder."""
    os.replace(temporary, target)
    sync_folder(target.parent)
