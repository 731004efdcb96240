"""Journalled email rows as the register sees them: merged into tonight's log, laid out
for the write-back, and recognised once they are in the sheet.

Pending rows (accepted, not yet written) join ``register.followups`` after the sheet's
own rows, so that night's rules re-grade the customer even when the register is open
in Excel and cannot be written.  A row counts as already written when the log holds a
row with the same customer, 内容 and 来源 (a run that died after replacing the register
but before noting it in the journal must not write it twice).
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from pipeline import schema
from pipeline.inbox.journal import rows_of
from pipeline.messages import every_language, text_in
from pipeline.model import Register, empty_frame

SOURCE = "source"


def pending_rows(entries: list[dict]) -> list[dict]:
    """Every row of the pending entries, each with its entry's key, in arrival order."""
    return [dict(row, key=entry["key"]) for entry in entries for row in rows_of(entry)]


def merge(register: Register, rows: list[dict]) -> Register:
    """The register with ``rows`` added to its follow-up log (after its last row)."""
    if not rows:
        return register
    log = register.followups
    start = int(log["row"].max()) + 1 if len(log) else 2
    records = [{**{f.name: row.get(f.name) for f in schema.FOLLOWUPS.fields
                   if row.get(f.name) is not None}, "row": start + i} for i, row in enumerate(rows)]
    added = empty_frame(schema.FOLLOWUPS, records)
    merged = pd.concat([log, added[log.columns]], ignore_index=True) if len(log) else added
    return replace(register, followups=merged.astype({c: log[c].dtype for c in log.columns} if len(log) else {}))


def source_headers() -> tuple[str, ...]:
    """The 来源 column's header in every language (and its Traditional spelling)."""
    return (*every_language("inbox.source_header"), "來源")


def written_keys(raw_log: list[list], rows: list[dict]) -> set[str]:
    """Keys of entries whose rows are all in the raw sheet already (customer, 内容, 来源)."""
    if not raw_log or not rows:
        return set()
    header = [str(h).strip() for h in raw_log[0]]
    wanted = {h.casefold() for h in source_headers()}
    content = {a.casefold() for a in schema.FOLLOWUPS.field("content").aliases()}
    ids = {a.casefold() for a in schema.FOLLOWUPS.field("customer_id").aliases()}
    at = {name: next((i for i, h in enumerate(header) if h.casefold() in names), None)
          for name, names in (("source", wanted), ("content", content), ("id", ids))}
    if at["source"] is None or at["id"] is None:
        return set()
    present = {(str(r[at["id"]]).strip(), str(r[at["content"]]).strip() if at["content"] is not None else "",
                str(r[at["source"]]).strip()) for r in raw_log[1:] if len(r) > at["source"] and r[at["source"]]}
    keys: dict[str, bool] = {}
    for row in rows:
        found = (row["customer_id"], (row.get("content") or "").strip(), row.get(SOURCE, "")) in present
        keys[row["key"]] = keys.get(row["key"], True) and found
    return {key for key, found in keys.items() if found}


def log_headers(register: Register) -> tuple[tuple[str, str], ...]:
    """(field id, header) of the log as the register writes it, 来源 last: a new sheet's
    headers in the register's language (the customer sheet's header tells which)."""
    layout = register.layout.get("followups")
    typed = layout.headers if layout else {}
    language = register_language(register)
    headers = []
    for f in schema.FOLLOWUPS.fields:
        default = {"zh": f.header, "zh_hant": f.traditional, "en": f.name}[language]
        headers.append((f.name, typed.get(f.name) or default))
    # The register's language, not the emails': an English email must not put "Source" into a
    # Chinese log (nor 来源 into an English one).
    source = {"zh": text_in("zh", "inbox.source_header"), "zh_hant": "來源",
              "en": text_in("en", "inbox.source_header")}
    return (*headers, (SOURCE, source[language]))


def source_word(register: Register) -> str:
    """The word the 来源 cell starts with, in the register's language (邮件 / Email)."""
    return text_in("en" if register_language(register) == "en" else "zh", "inbox.source_email")


def log_aliases() -> dict[str, tuple[str, ...]]:
    aliases = {f.name: f.aliases() for f in schema.FOLLOWUPS.fields}
    aliases[SOURCE] = source_headers()
    return aliases


def register_language(register: Register) -> str:
    """zh, zh_hant or en: how the register's customer id header is written."""
    layout = register.layout.get("customers")
    typed = (layout.headers.get("customer_id") if layout else "") or ""
    field = schema.CUSTOMERS.field("customer_id")
    if typed == field.traditional:
        return "zh_hant"
    if typed.casefold() == field.name.casefold() or typed.isascii() and typed:
        return "en"
    return "zh"


def log_sheet_name(register: Register) -> str:
    """The follow-up sheet's name; for a missing sheet, in the register's language."""
    layout = register.layout.get("followups")
    if layout is not None and layout.n_columns:
        return layout.sheet
    names = schema.FOLLOWUPS.names
    return {"zh": names[0], "zh_hant": names[1], "en": names[2]}[register_language(register)]
