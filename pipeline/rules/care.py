"""Care tasks (客户关怀, spec §3.6): birthday and festival greetings.

For customers of the grades in ``care.grades`` (A–C) and key accounts: a task every
day from ``care.days_ahead`` days before the birthday (solar or lunar) or festival
through the day itself.  Emails go out on working days only, so a working day's list
also carries the events that fell on the days off right before it (a birthday over
the 国庆 week is greeted late rather than never).

Appends the care tasks to ``state.tasks`` (rep_days orders and caps them) and sets
``state.notes["unknown_holiday_years"]``: the years of the days looked at for which
the holiday library has no official schedule.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from pipeline.config import Config
from pipeline.dates import care_dates
from pipeline.dates.festivals import upcoming_festivals
from pipeline.dates.workdays import WorkCalendar
from pipeline.messages import text
from pipeline.model import Problem, State, Task
from pipeline.rules.rep_day import make_tasks, with_assignment


def care_tasks(state: State, config: Config) -> tuple[State, list[Problem]]:
    calendar = WorkCalendar(country=config.locale.country, weekend=config.locale.weekend)
    first = first_care_day(calendar, state.today)
    last = state.today + timedelta(days=config.care.days_ahead)
    customers = with_assignment(state)
    wanted = customers["grade"].isin(config.care.grades) | customers["key_account"].astype(bool)
    cared = customers.loc[~customers["blocked"].astype(bool) & wanted]
    events = pd.concat([birthday_events(cared, first, last), festival_events(cared, config, first, last)])
    tasks = care_task_lines(state, cared, events)
    years = sorted({first.year, state.today.year, last.year})
    notes = {**state.notes, "unknown_holiday_years": calendar.unknown_years(years)}
    return replace(state, tasks=state.tasks + tuple(tasks), notes=notes), []


def first_care_day(calendar: WorkCalendar, today: date) -> date:
    """The earliest event day listed on ``today``: the first of the days off before it."""
    days_off = calendar.days_off_before(today)
    return days_off[0] if days_off else today


def birthday_events(cared: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """(customer index, day, event) for birthdays on first .. last."""
    if "birthday_parsed" not in cared.columns:
        return empty_events()
    found = {}   # Birthday -> day or None; birthdays repeat, the lunar arithmetic is not free
    rows = []
    for index, birthday in cared["birthday_parsed"].dropna().items():
        if not isinstance(birthday, care_dates.Birthday):
            continue
        if birthday not in found:
            found[birthday] = care_dates.birthday_due(birthday, first, (last - first).days)
        if found[birthday] is not None:
            rows.append((index, found[birthday], text("rules.care.birthday", label=birthday.label())))
    return pd.DataFrame(rows, columns=["customer", "day", "event"])


def festival_events(cared: pd.DataFrame, config: Config, first: date, last: date) -> pd.DataFrame:
    festivals = upcoming_festivals(config.care.festivals, first, (last - first).days)
    if not festivals or cared.empty:
        return empty_events()
    days = pd.DataFrame([(day, festival_label(name)) for name, day in festivals], columns=["day", "event"])
    return pd.DataFrame({"customer": cared.index}).merge(days, how="cross")


def festival_label(name: str) -> str:
    """中秋 -> 中秋节; names without a label of their own are shown as written."""
    try:
        return text(f"rules.festival.{name}")
    except KeyError:
        return name


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({"customer": pd.Series(dtype=object), "day": pd.Series(dtype=object),
                         "event": pd.Series(dtype=object)})


def care_task_lines(state: State, cared: pd.DataFrame, events: pd.DataFrame) -> list[Task]:
    if events.empty:
        return []
    frame = cared.loc[events["customer"]].reset_index(drop=True)
    due = pd.to_datetime(pd.Series(list(events["day"]))).astype("datetime64[ns]")
    lead = [event_reason(event, day, state.today) for event, day in zip(events["event"], events["day"])]
    return make_tasks(state, frame, "care", due=due, lead=pd.Series(lead),
                      events=pd.Series(list(events["event"])))


def event_reason(event: str, day: date, today: date) -> str:
    days = (day - today).days
    key = "today" if days == 0 else ("ahead" if days > 0 else "past")
    return text(f"rules.reason.care_{key}", event=event, date=day.isoformat(), days=abs(days))
