"""The inbox journal (output/inbox/journal.jsonl): every message handled, by Message-ID.

What makes the mailbox exactly-once.  A message's verdict (its rows, or why it was
refused) is appended and flushed to disk *before* the message is moved out of the
inbox, so a run killed in between finds the verdict on the next run and only moves
the message: it is never read twice, and a message fetched twice (copied back, or
the same Message-ID delivered again) adds nothing.  Accepted rows stay "pending"
until a write-back has put them into the register; the runner feeds pending rows to
that night's rules, so a register open in Excel delays the writing, not the grading.

One JSON object per line; a later line with the same key updates the earlier one
(``{"key": …, "written": "…"}``).  A torn last line (a crash mid-write) is skipped.
"""
from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

from pipeline.inbox.parse import DATE_FIELDS


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.entries: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    item = json.loads(line)
                    self.entries.setdefault(item["key"], {}).update(item)
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue

    def has(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> dict:
        return self.entries.get(key, {})

    def record(self, entry: dict) -> None:
        """Append ``entry`` (must hold "key") and make it durable before returning."""
        self.record_all([entry])

    def record_all(self, entries: list[dict]) -> None:
        """Append ``entries`` with one flush to disk (durable before this returns)."""
        if not entries:
            return
        lines = [json.dumps(_plain(entry), ensure_ascii=False) for entry in entries]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        for line in lines:
            item = json.loads(line)
            self.entries.setdefault(item["key"], {}).update(item)

    def mark(self, keys, **fields) -> None:
        self.record_all([{"key": key, **fields} for key in keys])

    def accepted(self) -> list[dict]:
        return [e for e in self.entries.values() if e.get("status") == "accepted"]

    def pending(self) -> list[dict]:
        """Accepted entries whose rows are not in the register yet, oldest first."""
        return sorted((e for e in self.accepted() if not e.get("written")),
                      key=lambda e: (e.get("received", ""), e["key"]))


def rows_of(entry: dict) -> list[dict]:
    """An entry's rows with their dates as ``date`` again."""
    rows = []
    for row in entry.get("rows", ()):
        row = dict(row)
        for name in DATE_FIELDS:
            if row.get(name):
                row[name] = date.fromisoformat(row[name])
        rows.append(row)
    return rows


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
