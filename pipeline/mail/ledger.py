"""The sent-ledger: one JSON line per event, so no email goes twice and none is lost.

Before a message is handed to the server its entry is written as ``"sending"`` (and
flushed to disk); after the server accepted it, a ``"sent"`` line confirms it.  Each
line is fsync'ed, so a crash or a full disk can lose at most the confirmation, never
the fact that a message may have gone:
- a key whose last line is ``"sent"`` went out: it is not sent again;
- a key whose last line is ``"sending"`` may or may not have reached the server (the
  run ended between the two lines): it is not sent again either, since a second copy
  is worse than asking, and the 主管 is told so the rep can be asked;
- a key whose last line is ``"failed"`` was refused or could not reach the server: it
  may be sent again;
- when the "sending" line cannot be written (disk full), the message is not sent.
Lines written by older versions (no ``status``) mean "sent".  A torn last line (a run
killed mid-write) is skipped.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

SENDING, SENT, FAILED = "sending", "sent", "failed"


def ledger_status(ledgers: Iterable[Path]) -> dict[str, str]:
    """key -> its last status in ``ledgers``; once "sent", always "sent"."""
    status: dict[str, str] = {}
    for ledger in ledgers:
        for entry in _entries(ledger):
            key, state = entry.get("key"), entry.get("status", SENT)
            if isinstance(key, str) and state in (SENDING, SENT, FAILED) and status.get(key) != SENT:
                status[key] = state
    return status


def read_ledger(ledger: Path) -> set[str]:
    """The keys not to send again: sent, or possibly sent ("sending")."""
    return {k for k, v in ledger_status([ledger]).items() if v != FAILED}


def record(ledger: Path, status: str, key: str, to: str, kind: str, subject: str,
           msg: EmailMessage) -> None:
    """Append one line and make it durable; raises OSError when it cannot (disk full)."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    entry = {"key": key, "status": status, "to": to, "kind": kind,
             "message_id": msg["Message-ID"], "subject": subject,
             "at": datetime.now().astimezone().isoformat(timespec="seconds")}
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    with ledger.open("a+b") as f:
        # A line torn by an earlier full disk must not swallow this one.
        if f.seek(0, os.SEEK_END) and (f.seek(-1, os.SEEK_END), f.read(1))[1] != b"\n":
            line = b"\n" + line
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def _entries(ledger: Path):
    try:
        lines = ledger.read_bytes().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry
