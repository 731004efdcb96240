"""A rep's cards for the day and the one definition of what they count (issue #14).

One customer is one card: a follow-up that is also a birthday is a single card whose
reasons say both, so "今天要联系 N 位客户" and its parts (逾期, 今天到期, 挽回, 问候)
add up.  Every surface that shows a day's counts — the rep's email, the 主管's table,
summary.json, the terminal — takes them from :func:`count_cards` over the same cards.

A card's kind is its first task's (follow-ups come before win-backs before greetings),
so 逾期 and 今天到期 are follow-up cards, 挽回 win-back cards, 问候 greeting-only cards;
``with_greeting`` counts follow-up and win-back cards that also carry a greeting.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace

from pipeline.model import RepDay, Task


@dataclass(frozen=True)
class DayCounts:
    customers: int       # cards listed (one per customer)
    overdue: int         # follow-up cards past their day
    due: int             # follow-up cards due today
    win_back: int        # 挽回 cards
    care: int            # cards that are only a greeting
    with_greeting: int   # follow-up / win-back cards that also carry a greeting
    waiting: int         # cards over the daily cap, waiting for the next working day

    def as_dict(self) -> dict:
        return asdict(self)


def merge_cards(tasks: Iterable[Task]) -> list[Task]:
    """One card per (list, customer), in the order of each customer's first task.

    Idempotent: cards already merged stay as they are.
    """
    cards: dict[tuple[str, str], Task] = {}
    for task in tasks:
        key = (task.rep, task.customer_id)
        first = cards.get(key)
        cards[key] = task if first is None else _fold(first, task)
    return list(cards.values())


def _fold(card: Task, other: Task) -> Task:
    extra = tuple(r for r in other.reasons if r not in card.reasons)
    # A greeting's own reason names the event and its day; the grade reason is already there.
    return replace(card, reasons=card.reasons + extra, also=card.also + (other,) + other.also,
                   wechat=card.wechat or other.wechat)


def greetings(card: Task) -> list[Task]:
    """The greeting tasks on a card: its own (a care card) and those folded in."""
    return [t for t in (card, *card.also) if t.kind == "care"]


def count_cards(cards: Sequence[Task], waiting: int = 0) -> DayCounts:
    cards = merge_cards(cards)
    follow = [c for c in cards if c.kind == "follow_up"]
    return DayCounts(
        customers=len(cards),
        overdue=sum(c.overdue_days > 0 for c in follow),
        due=sum(c.overdue_days <= 0 for c in follow),
        win_back=sum(c.kind == "win_back" for c in cards),
        care=sum(c.kind == "care" for c in cards),
        with_greeting=sum(c.kind != "care" and bool(greetings(c)) for c in cards),
        waiting=waiting)


def day_counts(day: RepDay) -> DayCounts:
    """The counts of a rep's own list, as their email shows them."""
    return count_cards(day.tasks, day.over_cap)
