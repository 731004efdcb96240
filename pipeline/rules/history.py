"""Per-customer facts from the follow-up and order logs (spec §3 conventions, §3.1, §3.2).

The later rules (grade, state, cadence, churn) read these columns instead of the logs.
Columns added to ``state.customers``:

- ``order_count`` (int): distinct order days on or before T (several orders on one
  day are one purchase occasion);
- ``first_order``, ``last_order`` (datetime64): first and last order day, NaT if none;
- ``order_gaps_median`` (float): median days between order days, NaN under 2 days;
- ``revenue_window`` (float): 金额 over (T − key_account_window_days, T];
- ``latest_note`` (str): 内容 of the latest follow-up row ("" if none);
- ``latest_satisfaction`` (float): the latest non-empty 满意度, NaN if none;
- ``rep_next_follow_up`` (datetime64): 下次跟进 of the latest follow-up row, NaT if
  that row has none;
- ``current_need`` (str), ``current_expected_close`` (datetime64): the latest non-empty
  value in the follow-ups, each field on its own, else the 客户 sheet's;
- ``last_followup`` (datetime64): the latest follow-up date;
- ``last_contact`` (datetime64): the latest of follow-ups, order days and the register's
  own 最近联系, each on or before T (replaces the register's value).

"Latest" follow-up row = latest date; on equal dates the lower row on the sheet.
Blocked log rows and rows dated after T are ignored; blocked customers get empty
values (NaT / NaN / "" / 0).
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from pipeline.config import Config
from pipeline.model import Problem, State


def history(state: State, config: Config) -> tuple[State, list[Problem]]:
    today = pd.Timestamp(state.today)
    customers = state.customers
    ids = text_column(customers["customer_id"])
    ids = ids.where(~customers["blocked"].astype(bool) & (ids != ""))
    # Logs are grouped by a whole-number code per customer: hashing each log's ids once
    # is much cheaper than grouping 500,000 rows by text again and again.
    catalog = pd.Index(ids.dropna().unique())
    codes = pd.Series(catalog.get_indexer(ids), index=customers.index)
    orders = usable_rows(state.register.orders, today, catalog, ["amount"])
    followups = usable_rows(state.register.followups, today, catalog,
                            ["content", "need", "expected_close", "satisfaction", "next_follow_up"])

    per_order = order_facts(orders, today, config.state.key_account_window_days)
    per_followup = followup_facts(followups)
    facts = {name: lookup(codes, column) for name, column in {**per_order, **per_followup}.items()}

    own_need = text_column(customers["need"])
    own_contact = customers["last_contact"].where(customers["last_contact"] <= today)
    contacts = pd.concat([facts["last_followup"], facts["last_order"], own_contact], axis=1)
    known = codes >= 0
    added = {
        "order_count": facts["order_count"].fillna(0).astype(int),
        "first_order": as_dates(facts["first_order"]),
        "last_order": as_dates(facts["last_order"]),
        "order_gaps_median": facts["order_gaps_median"].astype(float),
        "revenue_window": facts["revenue_window"].astype(float).fillna(0.0).where(known),
        "latest_note": facts["latest_note"].fillna("").astype(object),
        "latest_satisfaction": facts["latest_satisfaction"].astype(float),
        "rep_next_follow_up": as_dates(facts["rep_next_follow_up"]),
        "current_need": facts["need"].fillna(own_need).where(known, "").astype(object),
        "current_expected_close": as_dates(facts["expected_close"])
        .fillna(customers["expected_close"]).where(known),
        "last_followup": as_dates(facts["last_followup"]),
        "last_contact": as_dates(contacts.max(axis=1)).where(known),
    }
    return replace(state, customers=customers.assign(**added)), []


def text_column(series: pd.Series) -> pd.Series:
    """Text as plain str with "" for empty, whatever dtype the frame came with.

    Not stripped: the validator already trims cells, and stripping 500,000 log rows
    costs more than the rest of the stage.
    """
    return series.fillna("").astype(str).astype(object)


def lookup(codes: pd.Series, per_customer: pd.Series) -> pd.Series:
    """``per_customer`` (indexed by customer code) read for each of ``codes``, on their index.

    Not ``Series.map``: pandas 3 fails mapping through an empty datetime Series.
    """
    found = per_customer.reindex(codes.to_numpy())
    return pd.Series(found.array, index=codes.index, name=per_customer.name)


def as_dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).astype("datetime64[ns]")


def usable_rows(frame: pd.DataFrame, today: pd.Timestamp, catalog: pd.Index,
                columns: list[str]) -> pd.DataFrame:
    """Log rows the rules read: not blocked, dated on or before T, naming a customer of
    ``catalog``; ``customer`` is the customer's position in ``catalog``.  Only
    ``columns`` (and customer, date, row) are kept, the rest is not copied around."""
    code = catalog.get_indexer(text_column(frame["customer_id"]))
    keep = ~frame["blocked"].astype(bool) & frame["date"].notna() & (frame["date"] <= today) & (code >= 0)
    return frame[["row", "date", *columns]].assign(customer=code).loc[keep]


def order_facts(orders: pd.DataFrame, today: pd.Timestamp, window_days: int) -> dict[str, pd.Series]:
    """Per-customer order facts, each a Series indexed by customer code."""
    days = orders.groupby(["customer", "date"], sort=True)["amount"].sum().reset_index()
    by_customer = days.groupby("customer")
    gaps = by_customer["date"].diff().dt.days
    recent = orders.loc[orders["date"] > today - pd.Timedelta(days=window_days)]
    return {
        "order_count": by_customer.size(),
        "first_order": by_customer["date"].min(),
        "last_order": by_customer["date"].max(),
        "order_gaps_median": gaps.groupby(days["customer"]).median(),
        "revenue_window": recent.groupby("customer")["amount"].sum(),
    }


def followup_facts(followups: pd.DataFrame) -> dict[str, pd.Series]:
    """Per-customer follow-up facts, each a Series indexed by customer code."""
    ordered = followups.sort_values(["date", "row"], kind="stable")
    latest = latest_row(ordered)
    need = text_column(ordered["need"])
    return {
        "latest_note": text_column(latest["content"]),
        "rep_next_follow_up": latest["next_follow_up"],
        "last_followup": latest["date"],
        "latest_satisfaction": latest_row(ordered.loc[ordered["satisfaction"].notna()])["satisfaction"],
        "need": latest_row(ordered.assign(need=need).loc[need != ""])["need"],
        "expected_close": latest_row(ordered.loc[ordered["expected_close"].notna()])["expected_close"],
    }


def latest_row(ordered: pd.DataFrame) -> pd.DataFrame:
    """Each customer's last row of an already (date, row)-ordered frame, by customer code.

    Not ``groupby().last()``: that skips empty cells column by column, and the latest
    row's own empty 下次跟进 must stay empty.
    """
    return ordered.drop_duplicates("customer", keep="last").set_index("customer")
