"""The morning emails (spec §3.7, §4): each rep's list for the day and the 主管's summary.

Pure rendering: the day's data in, an :class:`Email` out (subject, HTML, plain text);
sending is ``pipeline.mail.send``'s job.  Everything a reader sees lives in the jinja2
templates under ``templates/email/<language>/`` (the language comes from
``[locale] language``).  HTML templates autoescape, so a customer called
``<script>`` stays text; the plain-text part has its own template rather than
stripped HTML; an undefined variable is an error, so every value is passed
explicitly.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline import schema
from pipeline.config import Config
from pipeline.dates.workdays import WorkCalendar
from pipeline.mail import inbox_mail
from pipeline.messages import template_dir
from pipeline.model import Problem, RepDay, State, Task
from pipeline.rules.cards import count_cards, day_counts, merge_cards
from pipeline.rules.rep_day import with_assignment

TEMPLATE_DIR = template_dir() / "email"
# The summary lists the first problems; the full list is in report.xlsx.
PROBLEMS_SHOWN = 15
RISKS_SHOWN = 10
MONTHS_SHOWN = 6
WRITEBACK_DONE = ("written", "unchanged")   # pipeline.writeback.update's statuses that need no word
# Fields a rep fills in 跟进记录 after a contact, in the order the how-to names them.
RECORD_FIELDS = ("date", "customer_id", "rep", "method", "content",
                 "need", "expected_close", "satisfaction", "next_follow_up")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")   # template whitespace, not meaning
_PHONE_SEPARATORS = re.compile(r"[/;；／、,，\s]+")


@dataclass(frozen=True)
class Email:
    to: str
    to_name: str
    subject: str
    html: str
    text: str
    kind: str        # "rep" | "owner" | "notice" | "inbox_reply"
    key: str         # ledger key, unique per day and recipient: "2026-11-23/rep/王强"
    reply_to: str = ""   # the follow-up mailbox, when the shop has one (issue 13)


@dataclass(frozen=True)
class RepCounts:
    """One line of the 主管's per-rep table: the rep's own email's counts, plus the rep's
    recent work and churn risks (pipeline.rules.cards defines the day's counts)."""
    rep: str                 # "" = customers without an active rep
    overdue: int
    due: int
    win_back: int
    care: int
    waiting: int             # over the daily cap, waiting for the next working day
    done_yesterday: int      # follow-up rows since the previous working day
    risk_high: int
    risk_medium: int


TOTALLED = ("overdue", "due", "win_back", "care", "waiting", "done_yesterday", "risk_high", "risk_medium")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                     disabled_extensions=("txt.j2",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["phones"] = phone_numbers
    env.filters["tel"] = tel_href
    env.filters["money"] = money
    env.filters["percent"] = lambda v: f"{float(v):.0%}"
    env.filters["plural"] = plural
    return env


def plural(count: int, one: str, many: str) -> str:
    """English counts: "1 greeting", "2 greetings"."""
    return f"{count} {one if count == 1 else many}"


def phone_numbers(phone: str) -> list[str]:
    """The numbers in a 电话 cell (several may be separated by / or ;)."""
    return [p for p in _PHONE_SEPARATORS.split(phone or "") if p]


def tel_href(number: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", number)


def money(value) -> str:
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def render(language: str, name: str, context: Mapping) -> str:
    """The email template ``templates/email/<language>/<name>`` filled with ``context``."""
    return _environment().get_template(f"{language}/{name}").render(context)


def render_subject(language: str, name: str, context: Mapping) -> str:
    """A subject template rendered to one line."""
    # One line whatever the data holds: a newline in a header is a bug waiting to happen.
    return " ".join(render(language, name, context).split())


def _email(kind: str, day: RepDay, today: date, context: Mapping, config: Config) -> Email:
    language = config.locale.language
    return Email(
        to=day.email, to_name=day.rep,
        subject=render_subject(language, f"{kind}_subject.txt.j2", context),
        html=render(language, f"{kind}.html.j2", context),
        text=_BLANK_LINES.sub("\n\n", render(language, f"{kind}.txt.j2", context)),
        kind=kind, key=email_key(kind, today, day.rep))


def email_key(kind: str, today: date, rep: str) -> str:
    """The ledger key of one email: unique per day, kind and recipient."""
    return f"{today.isoformat()}/{kind}/{rep}"


def writeback_notice(day: RepDay, today: date, reason: str, register: str, config: Config) -> Email:
    """Tells a 主管 that the register stayed locked until the retry deadline (issue #7)."""
    context = {"rep": day.rep, "today": today, "reason": reason, "register": register}
    return _email("notice", day, today, context, config)


def record_howto(state: State) -> dict:
    """The sheet and headers a rep uses to record a follow-up, as the shop typed them."""
    return {"sheet": state.register.sheet_name("followups"),
            "headers": {f: state.register.header("followups", f) for f in RECORD_FIELDS}}


def _sections(tasks: Sequence[Task]) -> list[dict]:
    """The list cut into follow-ups, win-backs and care, numbered straight through."""
    sections, number = [], 1
    for kind in ("follow_up", "win_back", "care"):
        items = [t for t in tasks if t.kind == kind]
        if items:
            sections.append({"kind": kind, "first": number, "tasks": items})
            number += len(items)
    return sections


def common_hint(tasks: Sequence[Task]) -> str:
    """A "what to record" shared by several tasks: said once above the list, not on each card."""
    hints = Counter(t.record_hint for t in tasks if t.record_hint).most_common(1)
    return hints[0][0] if hints and hints[0][1] >= 2 else ""


def rep_email(day: RepDay, state: State, config: Config, replies: Mapping | None = None) -> Email:
    """The rep's list for the day: only that rep's customers (``replies``: the mailbox's
    facts from pipeline.mailbox.for_emails, when the shop has one)."""
    strangers = [t.customer_id for t in day.tasks if t.rep != day.rep]
    if strangers:
        raise ValueError(f"{day.rep}'s list holds other reps' customers: {strangers}")
    day = inbox_mail.with_record_links(day, config)
    cards = merge_cards(day.tasks)
    context = {
        "inbox": inbox_mail.rep_view(day.rep, state, config, replies or {}),
        "rep": day.rep, "today": state.today, "weekday": state.today.isoweekday(),
        "sections": _sections(cards), "counts": day_counts(day).as_dict(),
        "over_cap": day.over_cap, "next_day": next_day(state.today, config),
        "record": record_howto(state), "common_hint": common_hint(cards),
    }
    return replace(_email("rep", day, state.today, context, config), reply_to=config.inbox.address)


def owner_email(day: RepDay, state: State, problems: Sequence[Problem],
                run_facts: Mapping, config: Config) -> Email:
    """The 主管's summary: per-rep counts, unassigned customers, problems, figures."""
    figures = state.figures or {}
    rows = rep_counts(state, previous_working_day(state.today, config))
    day = inbox_mail.with_record_links(day, config)
    unassigned = merge_cards(day.unassigned)
    context = {
        "inbox": inbox_mail.owner_view(rows, state, config, run_facts.get("inbox") or {}),
        "rep": day.rep, "today": state.today, "weekday": state.today.isoweekday(),
        "rows": rows,
        "totals": RepCounts("", *(sum(getattr(r, f) for r in rows) for f in TOTALLED)),
        "own_sections": _sections(merge_cards(day.tasks)), "own_over_cap": day.over_cap,
        "own_hint": common_hint(day.tasks), "next_day": next_day(state.today, config),
        # The report lists every unassigned task; the email shows a day's worth.
        "unassigned_sections": _sections(unassigned[:config.tasks.daily_cap]),
        "unassigned_more": max(len(unassigned) - config.tasks.daily_cap, 0),
        "unassigned_hint": common_hint(unassigned),
        "unassigned_customers": _unassigned_total(state),
        "problems": _problem_view(problems),
        "failed": list(run_facts.get("failed_deliveries", ())),
        "writeback_note": writeback_note(run_facts.get("writeback") or {}),
        "register": str(run_facts.get("register", "")),
        "figures": figures,
        "months": list(figures.get("revenue_by_month", ()))[-MONTHS_SHOWN:],
        "risks": list(figures.get("top_risks", ()))[:RISKS_SHOWN],
        "record": record_howto(state),
    }
    context["max_month"] = max((float(v) for _, v in context["months"]), default=0.0)
    return replace(_email("owner", day, state.today, context, config), reply_to=config.inbox.address)


def writeback_note(writeback: Mapping) -> str:
    """Why the register was not updated, "" when it was (or needed nothing)."""
    # A register written with a note (its signature gone) still says so.
    if not writeback or (writeback.get("status") in WRITEBACK_DONE and not writeback.get("reason")):
        return ""
    return str(writeback.get("reason") or writeback.get("status"))


def _calendar(config: Config) -> WorkCalendar:
    return WorkCalendar(country=config.locale.country, weekend=config.locale.weekend)


def next_day(today: date, config: Config) -> dict:
    """When what is over today's cap comes up: tomorrow, or the next working day after days off."""
    day = _calendar(config).next_working_day(today + timedelta(days=1))
    return {"date": day, "weekday": day.isoweekday(), "tomorrow": day == today + timedelta(days=1)}


def previous_working_day(today: date, config: Config) -> date:
    """Where "done yesterday" starts: Monday's summary counts Friday's and the weekend's work."""
    return _calendar(config).previous_working_day(today)


def _assigned(state: State) -> pd.DataFrame:
    """The customers not blocked, with ``assigned_rep`` as the rep's day assigns them ("" = nobody)."""
    customers = with_assignment(state)
    return customers[~customers["blocked"].astype(bool)]


def _unassigned_total(state: State) -> int:
    return int((_assigned(state)["assigned_rep"] == "").sum())


def rep_counts(state: State, since: date) -> list[RepCounts]:
    """Per active rep: the counts of their own email, done since ``since``, churn risks.

    The day's counts come from ``state.days`` through pipeline.rules.cards, exactly as
    each rep's email counts them.  Customers whose rep is not an active rep are counted
    on a last line with rep ""; a 主管 gets a line only when they have something to count.
    """
    customers = _assigned(state)
    owner = customers["assigned_rep"]
    risk = _column(customers, "churn_risk", "").fillna("").astype(str)
    done = _done_since(state, customers, since)
    lists = {d.rep: d for d in state.days}
    unassigned = [t for t in state.tasks if t.rep == ""] or \
        next((list(d.unassigned) for d in state.days if d.unassigned), [])
    rows = []
    for rep in [*lists, ""]:
        counts = day_counts(lists[rep]) if rep else count_cards(unassigned)
        mine = owner == rep
        row = RepCounts(rep=rep, overdue=counts.overdue, due=counts.due, win_back=counts.win_back,
                        care=counts.care, waiting=counts.waiting, done_yesterday=done[rep],
                        risk_high=int((mine & (risk == "高")).sum()),
                        risk_medium=int((mine & (risk == "中")).sum()))
        # A 主管 without customers of their own, or nobody unassigned, is no news.
        if any(getattr(row, f) for f in TOTALLED) or (rep and lists[rep].role != schema.ROLE_MANAGER):
            rows.append(row)
    return rows


def _done_since(state: State, customers: pd.DataFrame, since: date) -> Counter:
    """Follow-up rows since ``since`` per active rep (a row without a rep counts for the customer's)."""
    reps = {d.rep for d in state.days}
    followups = state.register.followups
    followups = followups[~followups["blocked"]]
    recent = followups[(followups["date"] >= pd.Timestamp(since)) & (followups["date"] < pd.Timestamp(state.today))]
    customer_rep = dict(zip(customers["customer_id"], customers["assigned_rep"]))
    return Counter((r if r in reps else "") or customer_rep.get(c, "")
                   for r, c in zip(recent["rep"], recent["customer_id"]))


def _column(frame: pd.DataFrame, name: str, empty) -> pd.Series:
    # Earlier stages add these columns; before they exist the counts are simply zero.
    return frame[name] if name in frame else pd.Series(empty, index=frame.index)


def _problem_view(problems: Sequence[Problem]) -> dict:
    order = {"error": 0, "warning": 1, "info": 2}
    ranked = sorted(problems, key=lambda p: (order.get(p.severity, 3), p.sheet, p.row or 0))
    return {"total": len(problems),
            "errors": sum(p.severity == "error" for p in problems),
            "shown": ranked[:PROBLEMS_SHOWN]}

