"""A rep's day (spec §3.7): the tasks for T, their order, the daily cap, unassigned → 主管.

Tasks for T: a follow-up for every customer due (next follow-up ≤ T) who is not 流失,
a win-back (挽回) for every 流失 customer due and every regular buyer the churn stage
judged gone (``win_back`` column, ``pipeline.rules.win_back``), and the care tasks the care stage left
in ``state.tasks``.  Order: follow-ups (grade A first, key accounts first within a
grade, longest overdue first, then 客户编号), win-backs (longest since the last order
first), care (soonest first).  Each active rep gets a RepDay (also with no tasks),
holding at most ``tasks.daily_cap`` tasks; the rest is counted in ``over_cap``.
Customers whose rep is empty, unknown, not 在职 or ambiguous (one 姓名 on 业务员 rows
that differ) are unassigned (``Task.rep`` ""):
their tasks go to every active 主管 in ``RepDay.unassigned``, not capped, since the
主管 hands them out rather than works through them.

One customer is one card: a customer's later tasks (a greeting for a customer already due)
are folded into their first task (``Task.also``, see ``pipeline.rules.cards``), so the cap
and every count are in customers.
Sets ``state.tasks`` (every card, in order, before the cap), ``state.days`` and
``state.notes["tasks_per_rep"]`` / ``["unassigned_tasks"]`` / ``["tasks_total"]``.
Reasons include the churn stage's ``churn_reasons`` column (tuples of str) when present,
and, for an A–C follow-up overdue by more than its interval and ``churn.neglect_min_days``,
a sentence saying so: rep neglect is the rep's matter, not churn (spec §3.5).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pandas as pd

from pipeline import schema
from pipeline.addresses import shared_address_names
from pipeline.config import Config
from pipeline.messages import text
from pipeline.model import Problem, RepDay, State, Task
from pipeline.rules.cards import count_cards, merge_cards
from pipeline.rules.customer_state import LOST
from pipeline.rules.history import text_column

KINDS = ("follow_up", "win_back", "care")
GRADE_RANK = {g: i for i, g in enumerate(schema.GRADES)}
# The customer columns a task is made from (besides the task's own due/overdue/lead).
TASK_COLUMNS = ("customer_id", "name", "contact", "phone", "wechat", "grade", "key_account", "latest_note",
                "assigned_rep", "rep", "grade_basis", "grade_close", "order_gaps_median",
                "last_contact", "last_order", "rep_next_follow_up", "next_follow_up", "lifecycle",
                "interval_days")
_NEGLECT_GRADES = ("A", "B", "C")


def rep_days(state: State, config: Config) -> tuple[State, list[Problem]]:
    today = pd.Timestamp(state.today)
    customers = with_assignment(state)
    due = customers.loc[~customers["blocked"].astype(bool) & (customers["next_follow_up"] <= today)]
    lost = due["lifecycle"] == LOST
    if "win_back" in due.columns:
        lost = lost | due["win_back"].astype(bool)
    due = due.assign(neglected=neglected(due, config.churn.neglect_min_days))
    follow_ups = make_tasks(state, sort_follow_ups(due.loc[~lost]), "follow_up")
    win_backs = make_tasks(state, sort_win_backs(due.loc[lost]), "win_back")
    others = sorted(state.tasks, key=later_order)
    # One customer, one card: a birthday of a customer already due is folded into their card.
    tasks = tuple(merge_cards(follow_ups + win_backs + others))

    days, problems = build_days(state, tasks, config.tasks.daily_cap)
    notes = {**state.notes, **task_notes(tasks, days)}
    return replace(state, tasks=tasks, days=days, notes=notes), problems


# --- who gets the task ------------------------------------------------------------

def active_reps(state: State) -> pd.DataFrame:
    """The 业务员 rows who work here, one per name, in sheet order (``working_reps``)."""
    return working_reps(state.register.reps)


def working_reps(reps: pd.DataFrame) -> pd.DataFrame:
    """The 业务员 rows who work here, one per name, in sheet order: the one definition of who
    gets an email and who may record by email (``pipeline.inbox.authorise``).

    A name on several rows that differ (邮箱, 角色 or 在职) is ambiguous: none of its rows
    is taken, so its customers go to the 主管 (the validator reports the rows).
    """
    named = named_reps(reps)
    working = named["active"].astype(bool) & ~named["name"].isin(ambiguous_names(named))
    return named.loc[working].drop_duplicates("name")


def named_reps(reps: pd.DataFrame) -> pd.DataFrame:
    """The usable 业务员 rows with a 姓名, 姓名/角色/邮箱 as plain text."""
    reps = reps.assign(name=text_column(reps["name"]), role=text_column(reps["role"]),
                       email=text_column(reps["email"]))
    return reps.loc[~reps["blocked"].astype(bool) & (reps["name"] != "")]


def ambiguous_names(reps: pd.DataFrame) -> set[str]:
    """Names whose rows disagree about who the person is or whether they work here, and
    业务员 in 在职 who share one 邮箱 under different names (``shared_address_names``)."""
    if reps.empty:
        return set()
    differing = reps.groupby("name")[["email", "role", "active"]].nunique(dropna=False) > 1
    return set(differing.index[differing.any(axis=1)]) | shared_address_names(reps["name"], reps["email"], reps["role"], reps["active"])



def with_assignment(state: State) -> pd.DataFrame:
    """Customers with ``assigned_rep``: their rep if active, else "" (unassigned)."""
    rep = text_column(state.customers["rep"])
    names = set(active_reps(state)["name"])
    return state.customers.assign(rep=rep, assigned_rep=rep.where(rep.isin(names), ""))


def neglected(due: pd.DataFrame, min_days: int) -> pd.Series:
    """A–C follow-ups overdue by more than their interval and more than ``min_days``."""
    overdue = due["overdue_days"].astype(float)
    return (due["grade"].isin(_NEGLECT_GRADES) & (overdue > due["interval_days"].astype(float))
            & (overdue > min_days))


# --- order ------------------------------------------------------------------------

def sort_follow_ups(due: pd.DataFrame) -> pd.DataFrame:
    keys = due.assign(sort_grade=due["grade"].map(GRADE_RANK).fillna(len(GRADE_RANK)),
                      sort_not_key=~due["key_account"].astype(bool),
                      sort_id=text_column(due["customer_id"]))
    return keys.sort_values(["sort_grade", "sort_not_key", "overdue_days", "sort_id"],
                            ascending=[True, True, False, True], kind="stable")


def sort_win_backs(due: pd.DataFrame) -> pd.DataFrame:
    keys = due.assign(sort_id=text_column(due["customer_id"]))
    return keys.sort_values(["last_order", "sort_id"], kind="stable", na_position="first")


def later_order(task: Task) -> tuple:
    """Care (and any later stage's) tasks: by kind, then soonest first."""
    return (KINDS.index(task.kind) if task.kind in KINDS else len(KINDS), task.due,
            task.customer_id, task.care_event)


# --- the task lines ---------------------------------------------------------------

def make_tasks(state: State, frame: pd.DataFrame, kind: str, due: pd.Series | None = None,
               lead: pd.Series | None = None, events: pd.Series | None = None) -> list[Task]:
    """One Task per row of ``frame`` (customers with ``assigned_rep``), in frame order.

    ``due`` defaults to the next follow-up, ``lead`` (a reason put first) to none,
    ``events`` (the care event) to "".  Care tasks are never overdue.
    """
    today = pd.Timestamp(state.today)
    n = len(frame)
    due = frame["next_follow_up"] if due is None else due
    overdue = frame["overdue_days"] if kind != "care" else pd.Series(0, index=frame.index)
    no_churn = pd.Series([()] * n, index=frame.index)
    churn = frame["churn_reasons"] if "churn_reasons" in frame.columns else no_churn
    late = frame["neglected"] if "neglected" in frame.columns else pd.Series(False, index=frame.index)
    owes, owes_days = _owed(frame)
    columns = [frame[c].tolist() for c in TASK_COLUMNS]
    extras = [due.tolist(), overdue.tolist(), churn.tolist(), late.tolist(),
              [""] * n if lead is None else lead.tolist(), [""] * n if events is None else events.tolist(),
              owes, owes_days]
    hint = text(f"rules.hint.{kind}")
    tasks = []
    for values in zip(*columns, *extras):
        row = dict(zip(TASK_COLUMNS + ("due", "overdue", "churn", "neglected", "lead", "event",
                                       "owes", "owes_days"), values))
        tasks.append(Task(
            rep=row["assigned_rep"], kind=kind, customer_id=str(row["customer_id"]),
            customer_name=str(row["name"]), contact=str(row["contact"]), phone=str(row["phone"]),
            wechat=_text(row["wechat"]), owes=row["owes"], owes_days=row["owes_days"],
            grade=row["grade"], key_account=bool(row["key_account"]), due=row["due"].date(),
            overdue_days=int(row["overdue"]), reasons=task_reasons(row, kind, today),
            latest_note=str(row["latest_note"]), record_hint=hint, care_event=row["event"],
            owner_rep="" if row["assigned_rep"] else row["rep"]))
    return tasks


def _owed(frame: pd.DataFrame) -> tuple[list[float], list[int]]:
    """Each row's overdue receivable and its days (0 when nothing is overdue, or when the
    receivables stage has not run)."""
    if "overdue_receivable" not in frame.columns:
        return [0.0] * len(frame), [0] * len(frame)
    amount = frame["overdue_receivable"].astype(float).fillna(0.0)
    days = frame["receivable_days"].astype(float).fillna(0.0).astype(int)
    return amount.tolist(), days.tolist()


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def task_reasons(row: dict, kind: str, today: pd.Timestamp) -> tuple[str, ...]:
    reasons = [row["lead"]] if row["lead"] else []
    if kind == "win_back" and row["lifecycle"] == LOST:
        reasons.append(text("rules.reason.lost", date=iso(row["last_order"]),
                            days=(today - row["last_order"]).days))
    reasons.append(grade_reason(row["grade"], row["grade_basis"], row["grade_close"],
                                row["order_gaps_median"], today))
    # Days overdue and 重点客户 are the task's own fields (shown beside the reasons), not reasons.
    if kind != "care":
        if pd.isna(row["last_contact"]):
            reasons.append(text("rules.reason.never_contacted"))
        elif row["rep_next_follow_up"] == row["next_follow_up"]:
            reasons.append(text("rules.reason.promised", date=iso(row["next_follow_up"])))
    if kind == "follow_up" and row["neglected"]:
        reasons.append(text("rules.reason.overdue", grade=row["grade"], interval=int(row["interval_days"]),
                            overdue=int(row["overdue"])))
    if kind != "care" and isinstance(row["churn"], (tuple, list)):
        reasons.extend(str(r) for r in row["churn"] if r)
    return tuple(r for r in reasons if r)


def grade_reason(grade: str, basis: str, close, gap: float, today: pd.Timestamp) -> str:
    """Why the customer has their grade, e.g. A级：需求明确，预计2026-12-01成交."""
    if not basis:
        return ""
    if basis in ("clear", "repeat") and close < today:
        basis += "_past"
    days = 0 if pd.isna(close) else abs((close - today).days)
    return text(f"rules.reason.grade.{basis}", grade=grade, date=iso(close), days=days,
                gap="" if pd.isna(gap) else int(gap + 0.5))   # whole days, rounded as people do


def iso(day) -> str:
    return "" if pd.isna(day) else day.date().isoformat()


# --- the lists --------------------------------------------------------------------

def build_days(state: State, tasks: tuple[Task, ...], cap: int) -> tuple[tuple[RepDay, ...], list[Problem]]:
    by_rep: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        by_rep[task.rep].append(task)
    unassigned = tuple(by_rep.get("", ()))
    reps = active_reps(state)
    days = []
    for name, email, role in zip(reps["name"], reps["email"], reps["role"]):
        own = by_rep.get(name, [])
        days.append(RepDay(rep=name, email=email, role=role, tasks=tuple(own[:cap]),
                           over_cap=max(0, len(own) - cap),
                           unassigned=unassigned if role == schema.ROLE_MANAGER else ()))
    has_manager = any(d.role == schema.ROLE_MANAGER for d in days)
    problems = [] if has_manager or not unassigned else [no_manager_problem(state, len(unassigned))]
    return tuple(days), problems


def no_manager_problem(state: State, count: int) -> Problem:
    register = state.register
    return Problem(sheet=register.sheet_name("reps"), row=None, column=register.header("reps", "role"),
                   value="", kind="no_manager", message=text("rules.problem.no_manager", count=count),
                   fix=text("rules.fix.no_manager"))


def task_notes(tasks: tuple[Task, ...], days: tuple[RepDay, ...]) -> dict:
    """The per-rep counts of summary.json and the terminal: pipeline.rules.cards' definitions."""
    per_rep = {}
    for day in days:
        per_rep[day.rep] = {**count_cards(day.tasks, day.over_cap).as_dict(),
                            "unassigned": len(day.unassigned)}
    # "业务员 N 人": the reps who work here with the role 业务员 (not the 主管, not who left).
    return {"tasks_per_rep": per_rep, "tasks_total": len(tasks),
            "reps_working": sum(d.role == schema.ROLE_REP for d in days),
            "unassigned_tasks": sum(t.rep == "" for t in tasks)}
