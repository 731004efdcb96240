"""Validating the register: raw sheets in, a clean Register and the list of problems out.

The stage every run starts with.  It finds the four sheets and their columns by any
accepted header (Simplified, Traditional, English, plus config aliases), reads every
cell by its field's kind (``pipeline.read.cells``), and checks what spans rows and sheets:
duplicate ids, reps missing from 业务员, one 姓名 on two 业务员 rows, log rows for unknown
customers, dates in the future.  Bad rows are kept (``blocked``) and reported, never dropped.  Only what makes
the run impossible (the 客户 or 业务员 sheet or a required column missing) raises.
"""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.addresses import shared_address_names
from pipeline.config import Config
from pipeline.dates.care_dates import parse_birthday
from pipeline.messages import text
from pipeline.model import Problem, Register, SheetLayout, empty_frame, empty_value
from pipeline.read import cells
from pipeline.read.workbook import RegisterError, Sheet, Workbook

BLOCKING = {"missing_id", "duplicate_id", "unknown_customer", "missing_date", "missing_amount", "missing_rep_name"}
# A bad cell in these fields makes the whole row unusable.
BLOCKING_FIELDS = {("followups", "date"), ("orders", "date"), ("orders", "amount")}


def _key(header) -> str:
    # every kind of space goes, an Alt+Enter line break in a header too (客户\n编号)
    return "".join(unicodedata.normalize("NFKC", str(header)).split()).lower().replace("_", "")


def problem(sheet: str, row: int | None, column: str, value, kind: str, severity: str = "", **facts) -> Problem:
    severity = severity or ("error" if kind in BLOCKING else "info" if kind in ("missing_sheet", "blank_row",
                                                                              "blank_rows") else "warning")
    return Problem(sheet=sheet, row=row, column=column, value=cells.display(value), kind=kind,
                   message=text(f"problem.{kind}", column=column, **facts),
                   fix=text(f"fix.{kind}", column=column, **facts), severity=severity)


def used_sheets(config: Config):
    """For ``read_workbook``: of a workbook's sheet names, the ones the run reads."""
    def wanted(names: list[str]) -> list[str]:
        return [name for spec in schema.SHEETS if (name := _find_sheet(names, spec, config)) is not None]
    return wanted


def validate(book: Workbook, config: Config, run_date: date) -> tuple[Register, list[Problem]]:
    """The validation stage: (raw sheets, config) -> (register, problems)."""
    problems: list[Problem] = []
    frames, layouts = {}, {}
    sheets = book.sheets
    for spec in schema.SHEETS:
        name = _find_sheet(list(sheets), spec, config)
        if name is None:
            if not spec.optional:
                raise RegisterError(text("register.missing_sheet_found", sheet=spec.names[0], key=spec.key,
                                         found=_listed(book.names or sheets)))
            problems.append(problem(spec.names[0], None, "", "", "missing_sheet", name=spec.names[0]))
            frames[spec.key], layouts[spec.key] = empty_frame(spec, []), SheetLayout(sheet=spec.names[0])
            continue
        frames[spec.key], layouts[spec.key], found = _read_sheet(sheets[name], name, spec, config, book.date1904)
        problems += found
    register = Register(frames["customers"], frames["followups"], frames["orders"], frames["reps"], layouts)
    for check in CROSS_CHECKS:
        register, found = check(register, run_date)
        problems += found
    return register, problems


def _listed(names, limit: int = 20) -> str:
    """What was found instead, so the user can name it in [aliases]: 「客户资料」、「业务员」…"""
    names = [str(n) for n in names]
    shown = text("register.found_joiner").join(text("register.found_name", name=n) for n in names[:limit])
    return shown + ("…" if len(names) > limit else "") if names else text("register.found_none")


def _find_sheet(sheets: list[str], spec: schema.SheetSpec, config: Config) -> str | None:
    wanted = {_key(n) for n in spec.names + config.aliases.sheets.get(spec.key, ())}
    return next((name for name in sheets if _key(name) in wanted), None)


def _header_map(header_row: list, spec: schema.SheetSpec, config: Config) -> dict[str, int]:
    extra = getattr(config.aliases, spec.key)
    by_alias = {_key(a): f.name for f in spec.fields for a in f.aliases() + extra.get(f.name, ())}
    if spec.key == "customers":   # the pipeline's own columns are known, not extras
        by_alias |= {_key(a): f"computed:{f.name}" for f in schema.COMPUTED for a in f.aliases()
                     if f.name != "last_contact"}
    found: dict[str, int] = {}
    for i, header in enumerate(header_row):
        name = by_alias.get(_key(header)) if header != "" else None
        if name and name not in found:
            found[name] = i
    return found


def _twice(header_row: list, found: dict[str, int], spec: schema.SheetSpec, config: Config) -> dict[str, list[int]]:
    """Field -> the later columns whose header names it again (only the first column is read)."""
    again: dict[str, list[int]] = {}
    for i, header in enumerate(header_row):
        for name, first in found.items():
            if i > first and header != "" and _header_map([header], spec, config).get(name) == 0:
                again.setdefault(name, []).append(i)
    return again


def _duplicate_columns(sheet: str, spec, header_row, found, again, grid, frame) -> list[Problem]:
    """One problem per repeated header; a customer whose two 业务员 cells differ has no
    clear rep, so (privacy first) the customer goes to the 主管, named row by row."""
    problems = []
    for name, columns in again.items():
        first = found[name]
        for col in columns:
            problems.append(problem(sheet, 1, header_row[col], header_row[col], "duplicate_header",
                                    first=_letter(first), this=_letter(col)))
            if spec.key == "customers" and name == "rep":
                for i in range(len(grid)):
                    a, b = cells.clean_text(grid.at[i, first]), cells.clean_text(grid.at[i, col])
                    if a and b and a != b:
                        problems.append(problem(sheet, int(grid.at[i, "row"]), header_row[col], b,
                                                "rep_columns_differ", first=a))
                        frame.at[i, "rep"] = ""
    return problems


def _letter(i: int) -> str:
    from openpyxl.utils.cell import get_column_letter
    return get_column_letter(i + 1)


def _read_sheet(raw: Sheet, sheet: str, spec: schema.SheetSpec, config: Config, date1904: bool):
    rows = raw.rows
    header_row = [cells.clean_text(h) for h in rows[0]] if rows else []
    found = _header_map(header_row, spec, config)
    for f in spec.fields:
        if f.required and f.name not in found:
            raise RegisterError(text("register.missing_column_found", sheet=sheet, column=f.header,
                                     key=spec.key, field=f.name, found=_listed(h for h in header_row if h)))
    width = len(header_row)
    cells_ = _grid(rows[1:], width)
    grid = pd.DataFrame(cells_, columns=range(width), dtype=object)
    grid["row"] = np.asarray(raw.row_numbers()[1:len(cells_) + 1], dtype=np.int64)
    blank = pd.Series((cells_ == "").all(axis=1), index=grid.index)
    grid = grid[~blank].reset_index(drop=True)
    problems = _blank_runs(sheet, grid["row"].to_numpy())
    frame = pd.DataFrame({"row": grid["row"].astype(int), "blocked": False})
    headers = {}
    for f in spec.fields:
        if f.name not in found:
            frame[f.name] = empty_value(f.kind)
            continue
        col = found[f.name]
        headers[f.name] = header_row[col]
        values, bad = (cells.read_dates(grid[col], date1904) if f.kind == "date"
                       else cells.READERS[f.kind](grid[col]))
        frame[f.name] = values.to_numpy()
        blocking = (spec.key, f.name) in BLOCKING_FIELDS
        for i in np.flatnonzero(bad.to_numpy() != ""):
            problems.append(problem(sheet, int(grid.at[i, "row"]), header_row[col], grid.at[i, col], bad.iat[i],
                                    severity="error" if blocking else ""))
            if blocking:
                frame.at[i, "blocked"] = True
    problems += _duplicate_columns(sheet, spec, header_row, found, _twice(header_row, found, spec, config),
                                   grid, frame)
    frame = _typed(frame, spec)
    known_cols = set(found.values())
    extras = tuple(h for i, h in enumerate(header_row) if i not in known_cols and h != "")
    if spec.key == "customers":
        for i, h in enumerate(header_row):
            if i not in known_cols and h != "":
                frame[h] = cells.each(cells.clean_text, grid[i]).to_numpy()
        frame, found_b = _parse_birthdays(frame, sheet, headers.get("birthday", ""))
        problems += found_b
    numeric = tuple(h for i, h in enumerate(header_row) if i not in known_cols and h != ""
                    and spec.key == "customers" and _all_numbers(grid[i]))
    layout = SheetLayout(sheet=sheet, headers=headers, columns={k: v for k, v in found.items()},
                         extras=extras, n_columns=width, numeric_extras=numeric)
    return frame, layout, problems


def _all_numbers(values) -> bool:
    """A staff column typed as numbers in Excel (信用额度): the report copies it as numbers."""
    typed = [v for v in values if v is not None and v != ""]
    return bool(typed) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in typed)


def _blank_runs(sheet: str, rows: np.ndarray) -> list[Problem]:
    """Each run of blank rows between the header and the last row with data, once:
    one problem per run, so a stray value in A1048576 is not a million problems."""
    before = np.concatenate(([1], rows[:-1]))
    gaps = np.flatnonzero(rows - before > 1)
    found = []
    for i in gaps:
        first, last = int(before[i]) + 1, int(rows[i]) - 1
        found.append(problem(sheet, first, "", "", "blank_row") if first == last else
                     problem(sheet, first, "", "", "blank_rows", first=first, last=last, count=last - first + 1))
    return found


def _grid(rows: list[list], width: int) -> np.ndarray:
    """The data rows as a 2-D object array of the header's width (calamine's grid is rectangular)."""
    if rows and all(len(r) == width for r in (rows[0], rows[-1])):
        try:
            return np.array(rows, dtype=object).reshape(len(rows), width)
        except ValueError:   # ragged after all
            pass
    return np.array([(r + [""] * width)[:width] for r in rows], dtype=object).reshape(len(rows), width)


def _typed(frame: pd.DataFrame, spec: schema.SheetSpec) -> pd.DataFrame:
    typed = empty_frame(spec, [])
    return frame.astype({c: typed[c].dtype for c in typed.columns if c in frame.columns and c != "birthday_parsed"})


def _parse_birthdays(frame: pd.DataFrame, sheet: str, header: str):
    parsed, problems = [], []
    for row, value in zip(frame["row"], frame["birthday"]):
        try:
            parsed.append(parse_birthday(value) if value else None)
        except ValueError:
            parsed.append(None)
            problems.append(problem(sheet, int(row), header, value, "bad_birthday"))
    return frame.assign(birthday_parsed=pd.Series(parsed, index=frame.index, dtype=object)), problems


# --- checks across rows and sheets: (register, run_date) -> (register, problems) ---

def check_customer_ids(register: Register, run_date: date):
    c = register.customers
    sheet, column = register.sheet_name("customers"), register.header("customers", "customer_id")
    missing = c["customer_id"] == ""
    dup = c["customer_id"].duplicated(keep="first") & ~missing
    first_row = c[~missing].drop_duplicates("customer_id").set_index("customer_id")["row"]
    problems = [problem(sheet, int(r), column, "", "missing_id") for r in c.loc[missing, "row"]]
    problems += [problem(sheet, int(r), column, cid, "duplicate_id", first_row=int(first_row[cid]))
                 for r, cid in zip(c.loc[dup, "row"], c.loc[dup, "customer_id"])]
    name_col = register.header("customers", "name")
    problems += [problem(sheet, int(r), name_col, "", "missing_name")
                 for r in c.loc[(c["name"] == "") & ~missing, "row"]]
    customers = c.assign(blocked=c["blocked"] | missing | dup)
    return replace(register, customers=customers), problems


def check_reps(register: Register, run_date: date):
    reps = register.reps
    sheet = register.sheet_name("reps")
    missing = reps["name"] == ""
    problems = [problem(sheet, int(r), register.header("reps", "name"), "", "missing_rep_name")
                for r in reps.loc[missing, "row"]]
    known = set(reps.loc[~missing, "name"])
    c = register.customers
    unknown = (c["rep"] != "") & ~c["rep"].isin(known)
    column = register.header("customers", "rep")
    problems += [problem(register.sheet_name("customers"), int(r), column, rep, "unknown_rep",
                         reps_sheet=sheet) for r, rep in zip(c.loc[unknown, "row"], c.loc[unknown, "rep"])]
    problems += _duplicate_reps(reps.loc[~missing & ~reps["blocked"]], sheet, register.header("reps", "name"))
    usable = reps.loc[~missing & ~reps["blocked"]]
    shared = shared_address_names(usable["name"], usable["email"], usable["role"], usable["active"])
    problems += [problem(sheet, int(r), register.header("reps", "email"), email, "shared_rep_email", name=name)
                 for r, name, email in zip(reps["row"], reps["name"], reps["email"]) if name in shared]
    return replace(register, reps=reps.assign(blocked=reps["blocked"] | missing)), problems


def _duplicate_reps(reps: pd.DataFrame, sheet: str, column: str) -> list[Problem]:
    """Two rows with one 姓名: rows that differ (邮箱, 角色 or 在职) leave it unclear who the
    customers' 业务员 is, so that name's customers go to the 主管 (pipeline.rules.rep_day);
    identical rows are one person written twice."""
    problems = []
    for name, rows in reps.groupby("name", sort=False):
        if len(rows) < 2:
            continue
        same = all(rows[c].nunique(dropna=False) == 1 for c in ("email", "role", "active"))
        first = int(rows["row"].iloc[0])
        problems += [problem(sheet, int(r), column, name, "duplicate_rep_same" if same else "duplicate_rep",
                             severity="warning" if same else "error", first_row=first)
                     for r in rows["row"].iloc[1:]]
    return problems


def check_log_rows(register: Register, run_date: date):
    """Follow-ups and orders: a known customer, a date not after the real run date."""
    problems, frames = [], {}
    ids = set(register.customers.loc[register.customers["customer_id"] != "", "customer_id"])
    future = pd.Timestamp(run_date)
    for key in ("followups", "orders"):
        log = getattr(register, key)
        sheet = register.sheet_name(key)
        if not len(log):
            frames[key] = log
            continue
        id_col, date_col = register.header(key, "customer_id"), register.header(key, "date")
        unknown = ~log["customer_id"].isin(ids)
        problems += [problem(sheet, int(r), id_col, cid, "unknown_customer" if cid else "missing_id")
                     for r, cid in zip(log.loc[unknown, "row"], log.loc[unknown, "customer_id"])]
        no_date = log["date"].isna() & ~log["blocked"]
        problems += [problem(sheet, int(r), date_col, "", "missing_date") for r in log.loc[no_date, "row"]]
        ahead = log["date"] > future
        problems += [problem(sheet, int(r), date_col, d.strftime("%Y-%m-%d"), "future_date", run_date=run_date.isoformat())
                     for r, d in zip(log.loc[ahead, "row"], log.loc[ahead, "date"])]
        blocked = log["blocked"] | unknown | log["date"].isna()
        if key == "orders":
            no_amount = log["amount"].isna() & ~log["blocked"]
            problems += [problem(sheet, int(r), register.header(key, "amount"), "", "missing_amount")
                         for r in log.loc[no_amount, "row"]]
            blocked |= log["amount"].isna()
        frames[key] = log.assign(blocked=blocked)
    return replace(register, **frames), problems


CROSS_CHECKS = [check_customer_ids, check_reps, check_log_rows]
