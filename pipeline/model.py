"""The data that flows between stages: the validated register, problems, tasks.

Conventions every stage relies on (the validator guarantees them):
- Each frame has ``row`` (the row number the user sees in Excel, header = row 1) and
  ``blocked`` (True when the row has a blocking problem: it is kept and reported, but
  rules skip it).
- Field columns carry the English field ids of ``pipeline.schema``.  Text is ``str``
  ("" when empty); dates are ``datetime64[ns]`` at midnight (NaT when empty); numbers
  are ``float`` (NaN when empty); ``reps.active`` is ``bool``.
- ``customers.birthday`` holds the normalised text; ``customers.birthday_parsed``
  holds a ``dates.care_dates.Birthday`` or None.
- Columns the shop added that the pipeline does not know are kept, under the header
  text the user typed, on ``customers`` (listed in ``layout["customers"].extras``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from pipeline import schema


@dataclass(frozen=True)
class Problem:
    """A mistake in the user's data, located as the user sees it in Excel."""
    sheet: str          # the sheet name as it is in the workbook
    row: int | None     # Excel row (header = 1); None for a whole-sheet problem
    column: str         # the header text the user typed ("" for a whole-row problem)
    value: str          # the offending value as text
    kind: str           # machine code, e.g. "bad_date", "duplicate_id"
    message: str        # what is wrong (user's language)
    fix: str            # how to fix it (user's language)
    severity: str = "warning"   # "error" (row blocked) | "warning" | "info"


@dataclass(frozen=True)
class SheetLayout:
    """Where a sheet's fields are in the workbook, so problems and write-back can name them."""
    sheet: str                                   # actual sheet name
    headers: dict[str, str] = field(default_factory=dict)   # field id -> header text typed
    columns: dict[str, int] = field(default_factory=dict)   # field id -> 0-based column index
    extras: tuple[str, ...] = ()                 # headers the pipeline does not know
    n_columns: int = 0                           # used width of the header row
    numeric_extras: tuple[str, ...] = ()         # extras whose every value is a number cell (信用额度)


@dataclass(frozen=True)
class Register:
    customers: pd.DataFrame
    followups: pd.DataFrame
    orders: pd.DataFrame
    reps: pd.DataFrame
    layout: dict[str, SheetLayout] = field(default_factory=dict)

    @classmethod
    def from_records(cls, customers=(), followups=(), orders=(), reps=()) -> "Register":
        """Build a register from plain dicts keyed by field id (tests and tools).

        Missing fields get empty values; ``row`` defaults to the record's position + 2.
        """
        specs = (schema.CUSTOMERS, schema.FOLLOWUPS, schema.ORDERS, schema.REPS)
        frames = [empty_frame(spec, list(records)) for spec, records in zip(specs, (customers, followups, orders, reps))]
        layout = {spec.key: SheetLayout(sheet=spec.names[0],
                                        headers={f.name: f.header for f in spec.fields},
                                        columns={f.name: i for i, f in enumerate(spec.fields)},
                                        n_columns=len(spec.fields)) for spec in specs}
        return cls(*frames, layout=layout)

    def sheet_name(self, key: str) -> str:
        return self.layout[key].sheet if key in self.layout else {
            s.key: s.names[0] for s in schema.SHEETS}[key]

    def header(self, key: str, field_name: str) -> str:
        spec = next(s for s in schema.SHEETS if s.key == key)
        layout = self.layout.get(key)
        return (layout.headers.get(field_name) if layout else None) or spec.field(field_name).header


def empty_value(kind: str):
    if kind == "date":
        return pd.NaT
    if kind in ("amount", "satisfaction", "number"):
        return np.nan
    if kind == "yesno":
        return True
    if kind == "role":
        return schema.ROLE_REP
    return ""


def empty_frame(spec: schema.SheetSpec, records: list[dict]) -> pd.DataFrame:
    """A frame with every field of ``spec`` typed as the conventions above say."""
    data: dict[str, list] = {"row": [r.get("row", i + 2) for i, r in enumerate(records)],
                             "blocked": [bool(r.get("blocked", False)) for r in records]}
    for f in spec.fields:
        data[f.name] = [r.get(f.name, empty_value(f.kind)) for r in records]
    frame = pd.DataFrame(data)
    for f in spec.fields:
        if f.kind == "date":
            frame[f.name] = pd.to_datetime(frame[f.name]).astype("datetime64[ns]")
        elif f.kind in ("amount", "satisfaction", "number"):
            frame[f.name] = frame[f.name].astype(float)
        elif f.kind == "yesno":
            frame[f.name] = frame[f.name].astype(bool)
        else:
            frame[f.name] = frame[f.name].astype(object)
    frame["row"] = frame["row"].astype(int)
    frame["blocked"] = frame["blocked"].astype(bool)
    if spec.key == "customers":
        frame["birthday_parsed"] = pd.Series([r.get("birthday_parsed") for r in records], dtype=object)
    return frame


@dataclass(frozen=True)
class Task:
    """One line of a rep's list for the day (spec §3.7)."""
    rep: str                 # the rep whose list it is in ("" = unassigned, for the 主管)
    kind: str                # "follow_up" | "win_back" | "care"
    customer_id: str
    customer_name: str
    contact: str
    phone: str
    grade: str
    key_account: bool
    due: date                # next follow-up date, or the care day
    overdue_days: int        # 0 when due today or a care task
    reasons: tuple[str, ...]  # why, in the user's language (grade, overdue, churn reasons…)
    latest_note: str         # the latest follow-up's 内容, "" if none
    record_hint: str         # what to record afterwards, in the user's language
    care_event: str = ""     # "生日（农历八月十五）" / "中秋节" for care tasks
    owner_rep: str = ""      # for unassigned customers: the rep named in the register, if any
    wechat: str = ""         # the register's 微信号, shown on the card to copy
    owes: float = 0.0        # overdue receivable (欠款), shown on the card: the rep calls anyway
    owes_days: int = 0       # days its oldest unpaid bill is past 应收日期
    # The customer's other tasks of the day, folded into this one card (a follow-up that is
    # also a birthday): one customer, one card, counted once (pipeline.rules.cards).
    also: tuple["Task", ...] = ()
    record_link: str = ""    # the 「记录跟进」 mailto: link, when the shop has a follow-up mailbox


@dataclass(frozen=True)
class RepDay:
    """A rep's (or a 主管's) list for one day, after ordering and the daily cap."""
    rep: str
    email: str
    role: str                 # schema.ROLE_REP or schema.ROLE_MANAGER
    tasks: tuple[Task, ...]   # within the cap, in order
    over_cap: int = 0         # how many tasks wait for tomorrow
    unassigned: tuple[Task, ...] = ()   # for a 主管: tasks of unassigned customers


@dataclass(frozen=True)
class State:
    """What the rule stages pass along: each stage returns a new State plus problems.

    ``customers`` starts as ``register.customers`` and gains computed columns stage by
    stage (English names; see each stage's docstring for the columns it adds).
    """
    register: Register
    today: date                                  # T, the run's as-of date
    run_date: date                               # the real date of the run
    customers: pd.DataFrame
    tasks: tuple[Task, ...] = ()                 # every task for T, before ordering and the cap
    days: tuple[RepDay, ...] = ()                # each rep's and 主管's ordered, capped list
    figures: dict = field(default_factory=dict)  # the owner's figures (统计)
    notes: dict = field(default_factory=dict)    # run-level facts for summary.json (model fit, unknown holiday years…)

    @classmethod
    def start(cls, register: Register, today: date, run_date: date | None = None) -> "State":
        return cls(register=register, today=today, run_date=run_date or today,
                   customers=register.customers)
