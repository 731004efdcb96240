"""Made-up but realistic register data (spec §2) for the demo and the benchmarks.

Customers get a buying pattern (prospect, one-time buyer, regular buyer with a rhythm,
one who broke their rhythm, one whose spend is falling, lost, occasional) and orders
and follow-ups are drawn from it with numpy, so 50,000 customers and a million rows
take seconds.  Every date is a whole number of days before the as-of date (``ago``),
so the register is fresh whatever day it is made.  The result is a ``Register`` of
plain Python columns that a writer turns into a workbook; ``shape`` lets the demo
set particular customers' stories before orders and follow-ups are drawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import numpy as np

from pipeline.demo import words as W
from pipeline.demo.tables import (
    MANAGER_REP,
    NO_DATE,
    Table,
    customer_table,
    excel_serial,
    followup_table,
    order_table,
    rep_table,
)

PROSPECT, ONE_TIME, ACTIVE, BROKEN, FALLING, LOST, OCCASIONAL = range(7)
SEGMENT_SHARE = (0.22, 0.12, 0.31, 0.06, 0.05, 0.10, 0.14)
RHYTHMIC = (ACTIVE, BROKEN, FALLING, LOST)
GAPS, GAP_SHARE = (7, 10, 14, 21, 30, 45, 60), (0.16, 0.08, 0.22, 0.08, 0.26, 0.1, 0.1)
CLEAR, LATENT, NO_NEED, NO_ANSWER = range(4)
NEED_SHARE = {  # per segment: 明确, 潜在, 无, empty
    PROSPECT: (0.28, 0.52, 0.15, 0.05), ONE_TIME: (0.20, 0.35, 0.15, 0.30),
    ACTIVE: (0.35, 0.20, 0.05, 0.40), BROKEN: (0.25, 0.30, 0.10, 0.35),
    FALLING: (0.35, 0.20, 0.05, 0.40), LOST: (0.10, 0.30, 0.30, 0.30),
    OCCASIONAL: (0.25, 0.35, 0.10, 0.30)}
SATISFACTION_SHARE = (0.01, 0.02, 0.10, 0.37, 0.50)
HISTORY_DAYS = 730


@dataclass
class Register:
    as_of: date
    customers: Table
    followups: Table
    orders: Table
    reps: Table
    profile: dict[str, np.ndarray]  # per customer, in the 客户 sheet's row order

    def tables(self) -> tuple[Table, ...]:
        return self.customers, self.followups, self.orders, self.reps


def make_register(*, customers: int, followups: int, orders: int, as_of: date, seed: int = 1,
                  reps: int | None = None,
                  shape: Callable[[dict, date], None] | None = None) -> Register:
    """Draw a register of exactly the requested row counts; ``shape`` edits profiles."""
    if customers < 1:
        raise ValueError("a register needs at least one customer")
    rng = np.random.default_rng(seed)
    n_reps = reps or int(np.clip(customers // 2500, 4, len(W.REP_POOL)))
    profile = _profiles(customers, n_reps, rng)
    if shape is not None:
        shape(profile, as_of)
    order_rows = _orders(profile, orders, rng)
    follow_rows = _followups(profile, followups, order_rows, n_reps, rng)
    rows = _created_order(profile, order_rows, follow_rows, rng)
    for rows_of in (order_rows, follow_rows):
        rows_of["cust"] = rows[rows_of["cust"]]
    base = excel_serial(as_of)
    ids = [f"C{i + 1:0{max(4, len(str(customers)))}d}" for i in range(customers)]
    return Register(as_of, customer_table(profile, ids, base, n_reps, rng),
                    followup_table(follow_rows, profile, ids, base, n_reps),
                    order_table(order_rows, ids, base), rep_table(n_reps), profile)


def _pick(rng: np.random.Generator, shares, n: int) -> np.ndarray:
    return rng.choice(len(shares), n, p=np.asarray(shares) / np.sum(shares))


def _profiles(n: int, n_reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Who each customer is and how they buy; every array has one entry per customer."""
    segment = _pick(rng, SEGMENT_SHARE, n)
    gap = np.asarray(GAPS)[_pick(rng, GAP_SHARE, n)]
    u = rng.random(n)
    last = np.floor(u * (HISTORY_DAYS + 1))
    regular = np.isin(segment, (ACTIVE, FALLING))
    last[regular] = np.floor(u[regular] * (gap[regular] + 1))
    # Broken rhythm (spec §3.5): half are just slipping (中), half have gone quiet (高).
    g, v = gap[segment == BROKEN], u[segment == BROKEN]
    slipping, quiet = np.maximum(2 * g, g + 14), np.maximum(3 * g, g + 28)
    last[segment == BROKEN] = np.minimum(np.where(
        v < 0.5, slipping + 1 + 2 * v * (quiet - slipping - 1), quiet + 1 + (2 * v - 1) * (2 * g + 30)), 330)
    for seg, within in ((ONE_TIME, 501), (OCCASIONAL, 301)):
        last[segment == seg] = np.floor(u[segment == seg] * within)
    lost = segment == LOST
    last[lost] = 370 + np.floor(u[lost] * 350)
    need = np.empty(n, dtype=int)
    for seg, shares in NEED_SHARE.items():
        where = segment == seg
        need[where] = _pick(rng, shares, int(where.sum()))
    r = rng.random((6, n))
    has_close = ((need == CLEAR) & (r[0] >= 0.02)) | ((need == LATENT) & (r[0] < 0.25))
    close = np.where(need == CLEAR, rng.integers(-25, 401, n), rng.integers(90, 401, n))
    rep = rng.integers(0, n_reps, n)
    rep[r[1] < 0.03] = n_reps  # the rep who left still has a few customers
    kind = _pick(rng, [k[1] for k in W.KINDS], n)
    return {
        "segment": segment, "gap": gap, "last_ago": last.astype(int), "need": need,
        "has_close": has_close, "close_in": close, "rep": rep, "kind": kind,
        "region": rng.integers(0, len(W.REGIONS), n),
        "base_amount": np.asarray([k[2] for k in W.KINDS])[kind] * rng.lognormal(0, 0.6, n),
        "debtor": (segment != PROSPECT) & (r[2] < 0.08),
        "never_contacted": (segment == PROSPECT) & (r[3] < 0.15),
        "created_ago": np.full(n, -1),  # >= 0: fixed by the demo instead of drawn
        "birthday_kind": _pick(rng, (0.40, 0.51, 0.06, 0.03), n),  # none/solar/农历月日/农历年-月-日
        "birth_year": rng.integers(1960, 1999, n), "birth_day_of_year": rng.integers(0, 365, n),
        "lunar_month": rng.integers(1, 13, n), "lunar_day": rng.integers(1, 30, n),
        "snooze_in": np.where(r[4] < 0.03, rng.integers(3, 61, n),
                              np.where(r[4] < 0.04, -rng.integers(1, 31, n), 0)),
        "grade_override": np.where(r[5] < 0.02, rng.integers(0, 5, n), -1),
        "old_contact_ago": np.where(rng.random(n) < 0.03, rng.integers(30, 400, n), -1),
        "story_no": np.full(n, -1),  # >= 0: one of the demo's hand-made customers
    }


def _allocate(total: int, base: np.ndarray, weight: np.ndarray, rng) -> np.ndarray:
    """Split ``total`` rows over customers: ``base`` each first, the rest by ``weight``."""
    base = base.astype(np.int64)
    if total < base.sum():
        return rng.multinomial(total, base / base.sum())
    if weight.sum() == 0:
        weight = np.where(base > 0, 1.0, 0.0) if base.sum() else np.ones(len(base))
    return base + rng.multinomial(total - base.sum(), weight / weight.sum())


def _orders(p: dict, total: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Orders following each customer's pattern; oldest first."""
    seg, gap, last = p["segment"], p["gap"], p["last_ago"]
    rhythmic = np.isin(seg, RHYTHMIC)
    base = np.select([seg == ONE_TIME, seg == OCCASIONAL, rhythmic], [1, 2, 3], 0)
    span = np.where(seg == LOST, 1100, HISTORY_DAYS) - last
    weight = np.select([rhythmic, seg == OCCASIONAL], [span / gap, 3.0], 0.0)
    counts = _allocate(total, base, weight, rng)
    span = np.maximum(span, counts - 1)
    every = np.minimum(gap, span / np.maximum(counts - 1, 1))  # a long history squeezes the rhythm
    on_time = np.isin(seg, (ACTIVE, FALLING, BROKEN))  # keep how late they are, in rhythms
    last = np.where(on_time, np.floor(last * every / gap), last).astype(int)
    p["last_ago"] = last
    cust = np.repeat(np.arange(len(seg)), counts)
    step = (np.cumsum(counts) - 1)[cust] - np.arange(total)  # orders still to come after this one
    k, every = counts[cust], every[cust]
    jitter = np.where(step > 0, rng.normal(0, 0.15, total) * every, 0)
    on_rhythm = last[cust] + step * every + jitter
    anytime = last[cust] + np.floor(rng.random(total) * (HISTORY_DAYS + 1 - last[cust])) * (step > 0)
    ago = np.where(rhythmic[cust] & (k >= 2), on_rhythm, anytime)
    ago = np.maximum(np.rint(ago), last[cust]).astype(int)
    amount = np.rint(p["base_amount"][cust] * rng.lognormal(0, 0.35, total))
    amount = np.maximum(np.where((seg[cust] == FALLING) & (ago < 90), np.rint(amount * 0.3), amount), 10)
    due_ago = ago - np.asarray([kind[3] for kind in W.KINDS])[p["kind"][cust]]
    r = rng.random((3, total))
    received = np.where((due_ago < 0) & (r[0] < 0.6), 0.0, np.nan)  # on credit, not due yet
    owing = p["debtor"][cust] & (due_ago >= 0) & (ago < 150)
    received[owing] = np.where(r[1][owing] < 0.5, 0.0, np.rint(amount[owing] * r[2][owing]))
    paid_in_full = np.isnan(received) & (r[1] < 0.1)
    received[paid_in_full] = amount[paid_in_full]
    order = np.lexsort((cust, -ago))
    return {"cust": cust[order], "ago": ago[order], "amount": amount[order],
            "received": received[order], "due_ago": due_ago[order]}


def _followups(p: dict, total: int, orders: dict, n_reps: int, rng: np.random.Generator) -> dict:
    """Contacts spread over each customer's time with the shop; oldest first."""
    n = len(p["segment"])
    first_order = np.full(n, -1)
    np.maximum.at(first_order, orders["cust"], orders["ago"])
    weight = (1 + 2.0 * (p["need"] == CLEAR) + 0.5 * (p["need"] == LATENT)
              + np.isin(p["segment"], RHYTHMIC)) * ~p["never_contacted"]
    counts = _allocate(total, np.zeros(n), weight.astype(float), rng)
    since = np.where(first_order >= 0, first_order + rng.integers(0, 61, n), rng.integers(1, 731, n))
    former = p["rep"] == n_reps
    since[former] = np.maximum(since[former], 160)
    p["since_ago"] = since
    cust = np.repeat(np.arange(n), counts)
    u = rng.random((5, total))
    low = np.where(former[cust], 100, 0)  # the rep who left stopped 100 days ago
    ago = (low + np.floor(u[0] * (since[cust] - low + 1))).astype(int)
    rep = np.where(u[1] < 0.08, MANAGER_REP, p["rep"][cust])
    rep[former[cust]] = p["rep"][cust][former[cust]]
    method = _pick(rng, [m[1] for m in W.FOLLOW_UP_NOTES], total)
    note_pick = rng.random(total)
    says_need = (u[2] < 0.2) & (ago < 120) & (p["need"][cust] != NO_ANSWER)
    satisfaction = np.where(u[3] < 0.25, _pick(rng, SATISFACTION_SHARE, total) + 1, 0)
    next_ago = np.where(u[4] < 0.12, ago - rng.integers(2, 31, total), NO_DATE)
    order = np.lexsort((cust, -ago))
    return {"cust": cust[order], "ago": ago[order], "rep": rep[order], "method": method[order],
            "note_pick": note_pick[order], "says_need": says_need[order],
            "satisfaction": satisfaction[order], "next_ago": next_ago[order]}


def _created_order(p: dict, orders: dict, follows: dict, rng) -> np.ndarray:
    """Set 建档日期 and sort customers by it, as ids are handed out; returns old->new row."""
    n = len(p["segment"])
    first = p["since_ago"].copy()
    np.maximum.at(first, orders["cust"], orders["ago"])
    np.maximum.at(first, follows["cust"], follows["ago"])
    created = first + rng.integers(0, 31, n)
    created[p["never_contacted"]] = rng.integers(0, 400, int(p["never_contacted"].sum()))
    fixed = p["created_ago"] >= 0
    created[fixed] = p["created_ago"][fixed]
    p["created_ago"] = created
    by_age = np.argsort(-created, kind="stable")
    for key, values in p.items():
        p[key] = values[by_age]
    new_row = np.empty(n, dtype=int)
    new_row[by_age] = np.arange(n)
    return new_row
