"""Write the computed columns back into the shared register, in place and safely.

The register is the shop's most valuable file, so this never re-saves it with a
spreadsheet library: only the customer sheet's XML part (plus appended styles and a
widened table) is rewritten inside the .xlsx, every other part is copied as stored.
Before anything is written it checks, in order: nobody has the file open, it did not
change since the run read it, a dated backup exists; then it writes a new file next
to the register, checks that every staff-entered cell reads back identical, and swaps
it in atomically (at the target of a symbolic link, with the register's mode and owner:
writeback.files).  A digitally signed register is refused unless the shop chose
otherwise (writeback.signature).  Any refusal leaves the register untouched and is
returned, not raised.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.messages import register_text, text
from pipeline.writeback.append import Appended, LogAppend, append_log, check_appended
from pipeline.writeback.columns import OutColumn
from pipeline.writeback.files import real_file, replace_synced, take_over_ownership, write_synced
from pipeline.writeback.lock import FileSnapshot, find_lock, make_backup, snapshot
from pipeline.writeback.package import (
    Package,
    PackageError,
    locate,
    serialize_xml,
    shared_strings,
    write_package,
)
from pipeline.writeback.signature import signature_note
from pipeline.writeback.sheet import update_customer_sheet
from pipeline.writeback.styles import StyleBook
from pipeline.writeback.table import grow_table, totals_rows
from pipeline.writeback.verify import StaffDigests, first_changed_row, first_staff_difference
from pipeline.writeback.view import grow_filter_name

__all__ = ["FileSnapshot", "LogAppend", "OutColumn", "WriteResult", "snapshot", "find_lock",
           "update_register", "build_updated", "computed_columns"]
_KINDS = {"date": "date", "int": "int", "percent": "percent", "money": "money"}
# Columns wider than their kind's default (writeback.sheet): the reasons are sentences.
_WIDTHS = {"churn_reason": 48}


@dataclass(frozen=True)
class WriteResult:
    status: str                     # "written" | "refused" | "unchanged"
    reason: str                     # one line for the terminal/summary (when written: a note or "")
    reason_code: str                # "locked", "changed", "verify_failed", ... ("" if not refused)
    lock_owner: str | None = None
    backup: Path | None = None


@dataclass(frozen=True)
class Update:
    """The new package bytes, the parts rewritten, and digests of the original rows'
    staff cells taken while they were read."""

    data: bytes
    rewritten: frozenset[str]
    staff_rows: StaffDigests
    appended: Appended | None = None    # follow-up rows from email (issue 13)
    date1904: bool = False


def computed_columns(state) -> list[OutColumn]:
    """The pipeline-owned customer columns (schema.COMPUTED) of a finished run's State."""
    customers = state.customers
    layout = state.register.layout.get("customers")
    rows = [int(r) for r in customers["row"].tolist()]
    columns = []
    for field in schema.COMPUTED:
        if field.name not in customers.columns:
            continue
        kind = _KINDS.get(field.kind, "text")
        values = {row: _cell_value(value, kind)
                  for row, value in zip(rows, customers[field.name].tolist())}
        typed = layout.headers.get(field.name) if layout else None
        aliases = tuple(dict.fromkeys(name for name in (field.traditional, field.name, typed)
                                      if name and name != field.header))
        columns.append(OutColumn(field.header, kind, values, aliases, _WIDTHS.get(field.name)))
    return columns


def _cell_value(value, kind: str):
    """A frame value as the writer wants it: None for empty, date, int, float or str."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "date":
        return pd.Timestamp(value).date()
    if kind == "int":
        return int(value)
    if kind in ("percent", "money"):
        return float(value)
    if isinstance(value, (bool, np.bool_)):
        # The register's own words (是/否), whatever language the emails are in.
        return register_text("yes") if value else register_text("no")
    return str(value) or None


class Refusal(Exception):
    def __init__(self, code: str, detail: str = "", **extra: object):
        super().__init__(code)
        self.code, self.detail, self.extra = code, detail, extra


def build_updated(data: bytes, sheet_name: str, columns: Sequence[OutColumn],
                  log: LogAppend | None = None) -> Update:
    """The register ``data`` with the computed columns written into ``sheet_name`` (and
    ``log``'s rows appended to the follow-up sheet)."""
    package = Package(data)
    parts = locate(package, sheet_name)
    if parts.styles is None:
        raise PackageError("bad_package", "no styles part")
    package.refuse_mixed((parts.sheet, parts.styles, *parts.tables))
    tables = {part: package.xml(part) for part in parts.tables}
    sheet, placed, styles, digests = update_customer_sheet(
        package.read(parts.sheet), parts.sheet, columns,
        lambda wanted: shared_strings(package, parts.shared_strings, wanted),
        lambda: StyleBook(package.xml(parts.styles)), parts.date1904,
        totals_rows(tables.values()))
    replaced = {parts.sheet: sheet}
    named = grow_filter_name(package, sheet_name, package.read(parts.sheet), sheet)
    if named:
        replaced[named[0]] = named[1]
    added = [(p.index, p.column.header) for p in placed if p.added]
    for part, table in tables.items():
        if grow_table(table, added):
            replaced[part] = serialize_xml(table)
    appended, new_parts = None, {}
    if log is not None and log.rows:
        appended = append_log(package, log, styles, parts.date1904, replaced, new_parts)
    if styles.changed:
        replaced[parts.styles] = styles.to_bytes()
    return Update(write_package(package, replaced, new_parts), frozenset(replaced), digests,
                  appended, parts.date1904)


def staff_difference(old: bytes, new: bytes, sheet_name: str, update: Update) -> str | None:
    """Where the new package differs outside what the pipeline owns, or None.

    ``update`` is what ``build_updated`` made from ``old``: the customer sheet of ``new``
    is re-parsed on its own and checked against the digests taken from ``old``'s rows;
    ``old``'s sheet is read again only to name the cell when one differs."""
    old_package, new_package = Package(old), Package(new)
    old_names = [info.filename for info in old_package.infos]
    new_parts = update.appended.new_parts if update.appended else ()
    if old_names != [info.filename for info in new_package.infos if info.filename not in new_parts]:
        return "parts"
    if update.appended is not None:
        where = check_appended(new_package, update.appended, update.date1904)
        if where:
            return where
    for before, after in zip(old_package.infos, new_package.infos):
        if before.filename not in update.rewritten and (
                before.CRC, before.file_size) != (after.CRC, after.file_size):
            return before.filename
    part = locate(old_package, sheet_name).sheet
    new_sheet = new_package.read(part)
    row = first_changed_row(new_sheet, part, update.staff_rows)
    if row is None:
        return None
    where = first_staff_difference(old_package.read(part), new_sheet, part,
                                   update.staff_rows.owned)
    return f"{sheet_name}!{where or f'{row}:{row}'}"


def update_register(path: Path, sheet_name: str, columns: Sequence[OutColumn], *,
                    read_snapshot: FileSnapshot, backup_dir: Path, keep_backups: int,
                    stamp: str, signed: str = "refuse", log: LogAppend | None = None) -> WriteResult:
    """Update the register in place when that is safe; otherwise say why not.

    ``signed`` is what to do with a digitally signed register: "refuse" (the default)
    or "write" (the result's reason then says the signature no longer holds); ``log``
    holds follow-up rows to append to the 跟进记录 sheet (replies from the mailbox)."""
    path = Path(path)
    try:
        return _update(path, sheet_name, columns, read_snapshot, Path(backup_dir),
                       keep_backups, stamp, signed, log)
    except Refusal as refusal:
        return _refused(refusal.code, refusal.detail, **refusal.extra)
    except PackageError as error:
        return _refused(error.code, error.detail)


def _update(path, sheet_name, columns, read_snapshot, backup_dir, keep_backups, stamp, signed, log=None):
    if not path.is_file():
        raise Refusal("missing", path=path)
    # Through a symbolic link, the shared file is the link's target: that is what is
    # replaced (the link stays), never the link itself.
    target = real_file(path)
    _refuse_if_locked(path, target)
    # stat before reading: a save between the two then shows as a changed file below.
    stat = os.stat(target)
    data = target.read_bytes()
    if len(data) != read_snapshot.size or \
            hashlib.sha256(data).hexdigest() != read_snapshot.sha256:
        raise Refusal("changed")
    update = build_updated(data, sheet_name, columns, log)
    if update.data == data:
        return WriteResult("unchanged", "", "")
    note = signature_note(Package(data), signed)   # nothing to write leaves a signature alone
    difference = staff_difference(data, update.data, sheet_name, update)
    if difference:
        raise Refusal("verify_failed", difference)
    try:
        backup = make_backup(data, path, backup_dir, stamp, keep_backups)
    except OSError as error:
        raise Refusal("backup_failed", str(error)) from None
    temporary = target.with_name(f".{target.name}.pipeline-tmp")
    try:
        _write_new(temporary, update.data, stat)
        _refuse_if_locked(path, target)
        now = os.stat(target)
        if (now.st_size, now.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            raise Refusal("changed")
        try:
            replace_synced(temporary, target)
        except OSError as error:
            raise Refusal("replace_failed", str(error)) from None
    finally:
        temporary.unlink(missing_ok=True)
    if target.read_bytes() != update.data:
        _restore(backup, target, stat)
        raise Refusal("verify_failed", "read back", backup=backup)
    return WriteResult("written", note, "", None, backup)


def _refuse_if_locked(path: Path, target: Path) -> None:
    """A lock file next to the link or next to the file it points at both mean "open"."""
    for place in dict.fromkeys((path, target)):
        lock = find_lock(place)
        if lock is not None:
            raise Refusal("locked", lock=lock[0].name, owner=lock[1])


def _write_new(temporary: Path, data: bytes, original: os.stat_result) -> None:
    try:
        write_synced(temporary, data)
        take_over_ownership(original, temporary)
    except OSError as error:
        raise Refusal("write_failed", str(error)) from None


def _restore(backup: Path, target: Path, original: os.stat_result) -> None:
    """Put the backed-up original back, atomically, after a bad read-back."""
    temporary = target.with_name(f".{target.name}.pipeline-restore")
    shutil.copyfile(backup, temporary)
    take_over_ownership(original, temporary)
    replace_synced(temporary, target)


def _refused(code: str, detail: str = "", *, lock: str | None = None,
             owner: str | None = None, path: Path | None = None,
             backup: Path | None = None) -> WriteResult:
    if code == "locked":
        reason = text("writeback.locked", owner=owner, lock=lock) if owner else text(
            "writeback.locked_unknown", lock=lock)
    elif code == "missing":
        reason = text("writeback.missing", path=path)
    else:
        reason = text(f"writeback.{code}", detail=detail)
    return WriteResult("refused", reason, code, owner, backup)
