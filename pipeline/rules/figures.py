"""The owner's figures (统计, spec §4): the questions the shop keeps asking, as plain values.

``owner_figures`` fills ``state.figures`` with a dict of plain Python values (int,
float, str, lists, dicts), which the report's 统计 sheet, the owner's email and
summary.json render as they are.  Everything is over the customer rows that are not
blocked and their orders dated on or before T, the same data the rules used.

A customer counts for a rep when that rep is in the 业务员 sheet and 在职; every other
customer (no rep, an unknown rep, a rep who left) is 未分配, as in the task lists.
"Last year" is the key-account window (``[state] key_account_window_days``, 365),
because the top-20% share is the same 80/20 question as the key accounts: its amounts
are the history stage's ``revenue_window``.
"""
from __future__ import annotations

from dataclasses import replace
from math import ceil

import numpy as np
import pandas as pd

from pipeline.messages import text
from pipeline.model import Problem, State
from pipeline.models.churn_model import known_orders
from pipeline.rules.churn import HIGH, MEDIUM
from pipeline.rules.rep_day import with_assignment
from pipeline.schema import GRADES

LIFECYCLES = ("潜在", "现实", "流失")
TOP_SHARE = 0.2          # "the top 20% of customers"
TOP_RISKS = 10
TOP_DEBTS = 5           # the largest overdue receivables named in the 主管's email
MONTHS = 12
ONCE_LEFT_DAYS = 90      # "bought once and left": no second order within this many days


def owner_figures(state: State, config) -> tuple[State, list[Problem]]:
    """The figures stage: runs after churn_risk and receivables."""
    customers, reps = counted(state)
    orders = known_orders(state)
    window = config.state.key_account_window_days
    count = customers["order_count"].fillna(0).astype(int)
    figures = {
        "customers_total": len(customers),
        "ever_bought": int((count >= 1).sum()),
        "repeat_buyers": int((count >= 2).sum()),
        "one_time_buyers": int((count == 1).sum()),
        "never_contacted": int(customers["last_contact"].isna().sum()),
        "per_grade": {g: int((customers["grade"] == g).sum()) for g in GRADES},
        "per_state": {s: int((customers["lifecycle"] == s).sum()) for s in LIFECYCLES},
        "per_rep": _plain_counts(reps.value_counts()),
        "churn_per_rep": _churn_per_rep(customers, reps),
        "revenue_by_month": revenue_by_month(orders, state.today),
        "revenue_by_rep": _revenue_by_rep(customers, reps, state.today, window),
        "top20_share": top_share(customers["revenue_window"].astype(float).fillna(0.0), TOP_SHARE),
        "receivables_total": float(customers["overdue_receivable"].fillna(0.0).sum()),
        "receivables_customers": int((customers["overdue_receivable"].fillna(0.0) > 0).sum()),
        "top_risks": top_risks(customers, reps),
        "top_receivables": top_receivables(customers, reps),
        "month_to_date": month_to_date(state.today),
        "customer_trend": customer_trend(orders, _known_followups(state, customers), customers,
                                         state.today),
    }
    return replace(state, figures=figures), []


def counted(state: State) -> tuple[pd.DataFrame, pd.Series]:
    """The customer rows that are not blocked, and each one's rep (未分配 when the rep
    is not an active row of 业务员), as the task lists assign them."""
    assigned = with_assignment(state)["assigned_rep"].astype(object)
    reps = assigned.where(assigned != "", text("churn.unassigned")).astype(object)
    kept = ~state.customers["blocked"].astype(bool)
    return state.customers[kept], reps[kept]


def _plain_counts(counts: pd.Series) -> dict:
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def _churn_per_rep(customers: pd.DataFrame, reps: pd.Series) -> dict:
    # Counted once per level rather than comparing every rep against 50,000 rows.
    risk = customers["churn_risk"].astype(object).to_numpy()
    labels = reps.astype(object).to_numpy()
    per_level = {level: pd.Series(labels[risk == level], dtype=object).value_counts()
                 for level in (HIGH, MEDIUM)}
    return {rep: {level: int(counts.get(rep, 0)) for level, counts in per_level.items()}
            for rep in _plain_counts(reps.value_counts())}


def revenue_by_month(orders: pd.DataFrame, today) -> list[tuple[str, float]]:
    """Order amount per calendar month, the 12 months up to T's month (that one up to T)."""
    months = pd.period_range(end=pd.Timestamp(today).to_period("M"), periods=MONTHS, freq="M")
    totals = orders.groupby(orders["date"].dt.to_period("M"))["amount"].sum()
    return [(str(m), float(totals.get(m, 0.0))) for m in months]


def _revenue_by_rep(customers, reps, today, window_days) -> dict:
    """revenue_window per rep, over the customers who ordered in the window (a rep
    whose customers all stayed away is not listed, rather than listed with ¥0)."""
    ordered = customers["last_order"] > pd.Timestamp(today) - pd.Timedelta(days=window_days)
    revenue = customers.loc[ordered, "revenue_window"].astype(float)
    totals = revenue.groupby(reps[ordered].to_numpy(dtype=object)).sum()
    return {str(k): float(v) for k, v in totals.sort_values(ascending=False).items()}


def top_share(revenue: pd.Series, share: float) -> float:
    """Share of the revenue of buying customers (revenue > 0) that the top ``share``
    of them bring (at least one customer); 0.0 when nobody bought."""
    buying = np.sort(revenue[revenue > 0].to_numpy())[::-1]
    if buying.size == 0:
        return 0.0
    top = max(1, ceil(share * buying.size))
    return float(buying[:top].sum() / buying.sum())


def at_risk(customers: pd.DataFrame, reps: pd.Series) -> pd.DataFrame:
    """The 高/中 rows of ``customers`` (as from ``counted``) in report order: 高 first,
    then value at stake (largest first), then id; with rep_label, value and high."""
    rows = customers.assign(rep_label=reps, high=customers["churn_risk"] == HIGH,
                            value=customers["expected_value"].astype(float).fillna(0.0))
    rows = rows[rows["churn_risk"].isin((HIGH, MEDIUM))]
    return rows.sort_values(["high", "value", "customer_id"], ascending=[False, False, True])


def _reasons_text(row) -> str:
    # The email's language (churn_reason is the register's 风险原因, in the register's words).
    reasons = getattr(row, "churn_reasons", None)
    if isinstance(reasons, (tuple, list)):
        return text("churn.reason.joiner").join(reasons)
    return str(row.churn_reason)


def top_risks(customers: pd.DataFrame, reps: pd.Series, limit: int = TOP_RISKS) -> list[dict]:
    """The first ``limit`` rows of ``at_risk``, as plain dicts."""
    return [{"customer_id": str(r.customer_id), "name": str(r.name), "rep": str(r.rep_label),
             "churn_risk": str(r.churn_risk), "churn_reason": _reasons_text(r),
             "expected_value": float(r.value),
             "last_order": r.last_order.date().isoformat() if pd.notna(r.last_order) else ""}
            for r in at_risk(customers, reps).head(limit).itertuples(index=False)]


def top_receivables(customers: pd.DataFrame, reps: pd.Series, limit: int = TOP_DEBTS) -> list[dict]:
    """The customers owing the most overdue money, as the report's 欠款 sheet orders them
    (amount, then days overdue, largest first, then id): the owner asks *who* owes."""
    rows = customers.assign(rep_label=reps, amount=customers["overdue_receivable"].astype(float),
                            days=customers["receivable_days"].astype(float))
    rows = rows[rows["amount"].fillna(0.0) > 0]
    rows = rows.sort_values(["amount", "days", "customer_id"], ascending=[False, False, True])
    return [{"customer_id": str(r.customer_id), "name": str(r.name), "rep": str(r.rep_label),
             "amount": float(r.amount), "days": int(r.days)}
            for r in rows.head(limit).itertuples(index=False)]


def month_to_date(today) -> str:
    """T's month ("2026-11") when T is not its last day: that month is not over and its
    figures are not a full month's; "" on the month's last day."""
    day = pd.Timestamp(today)
    return "" if day.is_month_end else str(day.to_period("M"))


def _known_followups(state: State, customers: pd.DataFrame) -> pd.DataFrame:
    followups = state.register.followups
    keep = (~followups["blocked"].astype(bool) & followups["date"].notna()
            & (followups["date"] <= pd.Timestamp(state.today))
            & followups["customer_id"].isin(customers["customer_id"]))
    return followups.loc[keep, ["customer_id", "date"]]


def customer_trend(orders: pd.DataFrame, followups: pd.DataFrame, customers: pd.DataFrame,
                   today, months: int = MONTHS, window: int = ONCE_LEFT_DAYS) -> list[dict]:
    """Per calendar month, the ``months`` up to T's (that one up to T):

    - ``bought``: customers with an order in the month;
    - ``bought_again``: of those, the ones who had ordered before the month;
    - ``once_left``: customers whose first order was in the month and who did not order
      again within ``window`` days after it; None while the window of a first order in
      the month can still be running (the month's end + ``window`` is after T);
    - ``never_contacted``: customers on file at the month's end (建档日期 on or before it,
      or none) with no follow-up and no order on or before it (nor, without either, a
      最近联系 of their own).

    ``orders``/``followups``: customer_id and date, already limited to T and to the
    ``customers`` (customer_id, created, last_contact) counted.
    """
    T = pd.Timestamp(today)
    days = orders[["customer_id", "date"]].drop_duplicates()
    first = days.groupby("customer_id")["date"].min()
    second = days[days["date"] > _lookup(days["customer_id"], first)].groupby("customer_id")["date"].min()
    gap = (second.reindex(first.index) - first).dt.days
    left = first[~(gap <= window)]                      # no second order day within window
    touches = pd.concat([days, followups[["customer_id", "date"]]], ignore_index=True)
    first_contact = touches.groupby("customer_id")["date"].min()
    contact = pd.to_datetime(_lookup(customers["customer_id"], first_contact))
    contact = contact.fillna(pd.to_datetime(customers["last_contact"]))
    created = pd.to_datetime(customers["created"])
    # Each order day's month and its customer's first month, counted per month at once.
    month_of = days["date"].dt.to_period("M")
    first_month = _lookup(days["customer_id"], first).dt.to_period("M")
    bought = days.groupby(month_of)["customer_id"].nunique()
    again = days[first_month < month_of].groupby(month_of[first_month < month_of])["customer_id"].nunique()
    once_left = left.dt.to_period("M").value_counts()
    rows = []
    for month in pd.period_range(end=T.to_period("M"), periods=months, freq="M"):
        month_end = month.end_time.normalize()
        end = min(month_end, T)
        on_file = created.isna() | (created <= end)
        rows.append({
            "month": str(month),
            "to_date": end < month_end,
            "bought": int(bought.get(month, 0)),
            "bought_again": int(again.get(month, 0)),
            "once_left": (None if month_end + pd.Timedelta(days=window) > T
                          else int(once_left.get(month, 0))),
            "never_contacted": int((on_file & ~(contact <= end)).sum()),
        })
    return rows


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` (unique index) at each of ``keys``, NaT/NaN where missing.  Not
    Series.map: it fails on an empty datetime mapper (pandas casts it to float)."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)
