"""The one thing the whole write-back passes around: a computed column to write.

Kept apart so that ``update`` (the flow) and ``sheet`` (the worksheet XML) both
import it without importing each other.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class OutColumn:
    """One computed column: its header, value kind and the value of each Excel row."""

    header: str
    kind: str                       # "text" | "date" | "int" | "percent" | "money"
    values: Mapping[int, object]    # Excel row (header = 1) -> value; None/missing = empty
    aliases: tuple[str, ...] = ()
    width: float | None = None      # when the column is added; None = by kind
