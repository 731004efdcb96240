"""The outbox folder: each email that did not go out, as an .eml (and an .html preview).

File names come from the email's ledger key (``2026-11-23/rep/王强`` -> ``rep-王强``)
and must be safe on Windows and Linux, bounded in length, and unique: reps named
``A/B`` and ``A-B`` must not share a file, or one email silently replaces the other.
A name that had to be changed (a character a file system refuses, a name too long)
gets a short hash of the whole key, so two different keys never end up with one name;
so does a name with capitals, since Windows and macOS ignore case in file names.
"""
from __future__ import annotations

import hashlib
import os
import re
from email.message import EmailMessage
from pathlib import Path

# Characters no file name may hold on Windows (and "/" nowhere); control characters too.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
# Characters, not bytes: 60 CJK characters are 180 bytes in UTF-8, well under the
# usual 255-byte limit even with the hash and ".html".
MAX_NAME_CHARS = 60


def outbox_name(key: str) -> str:
    """'2026-11-23/rep/王强' -> 'rep-王强'; 'rep/A/B' -> 'rep-A_B-1f3a9c2e' (unique, bounded)."""
    kind, _, name = key.split("/", 1)[-1].partition("/")
    safe = _UNSAFE.sub("_", name).strip(" .")
    readable = f"{kind}-{safe}" if name else kind
    if safe == name == name.lower() and len(readable) <= MAX_NAME_CHARS and name:
        return readable
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return f"{readable[:MAX_NAME_CHARS].rstrip(' .')}-{digest}"


def write_outbox(outbox: Path, key: str, html: str, msg: EmailMessage | None) -> Path:
    """The .eml (opens in any mail app, ready to send by hand) and an .html preview.

    Without a message (it could not be built) only the preview is written; the path
    returned is the one that exists.
    """
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{outbox_name(key)}.eml"
    preview = path.with_suffix(".html")
    _write_whole(preview, html.encode("utf-8"))
    if msg is None:
        return preview
    _write_whole(path, msg.as_bytes())
    return path


def _write_whole(path: Path, data: bytes) -> None:
    """Under a temporary name, then renamed: a full disk leaves no half email under the real name
    (a rep would forward a truncated .eml without knowing)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
