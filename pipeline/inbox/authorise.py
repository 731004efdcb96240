"""Who may write what (issue 13): only the shop's own people, each for their own customers.

A message counts only when its From address is the 邮箱 of an active rep (在职) or of a
主管 in 业务员; a rep may record only for the customers the register gives them, a
主管 for any customer.  A message the receiving server marked as failing DKIM, SPF or
DMARC (its ``Authentication-Results`` header) is refused whoever it claims to be from:
a From address is easy to forge, the server's verdict is not.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from pipeline import schema
from pipeline.rules.rep_day import ambiguous_names, named_reps, working_reps

_VERDICT = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
FAILING = {"fail", "softfail", "permerror"}


@dataclass(frozen=True)
class Sender:
    name: str        # as in 业务员's 姓名
    role: str        # schema.ROLE_REP or schema.ROLE_MANAGER


def failed_checks(auth_results: Iterable[str]) -> list[str]:
    """The checks (dkim, spf, dmarc) the server says the message failed."""
    failed = []
    for header in auth_results:
        for check, verdict in _VERDICT.findall(header or ""):
            if verdict.lower() in FAILING and check.lower() not in failed:
                failed.append(check.lower())
    return failed


def find_sender(address: str, reps: pd.DataFrame) -> Sender | None:
    """The rep or 主管 who works here (``rep_day.working_reps``: 在职, one clear row per 姓名)
    whose 邮箱 is ``address`` (case does not matter), or None.  The same people get the
    morning emails: whoever the register does not clearly employ cannot write into it."""
    wanted = address.strip().lower()
    if not wanted:
        return None
    working = working_reps(reps)
    for name, email, role in zip(working["name"], working["email"], working["role"]):
        if email.strip().lower() == wanted:
            return Sender(name, role)
    return None


def unclear_name(address: str, reps: pd.DataFrame) -> str:
    """The 姓名 of ``address``'s 业务员 row when that 姓名 is on rows that differ (so it is
    unclear who the person is and their customers are the 主管's), else ""."""
    wanted = address.strip().lower()
    named = named_reps(reps)
    doubtful = ambiguous_names(named)
    return next((name for name, email in zip(named["name"], named["email"])
                 if name in doubtful and wanted and email.strip().lower() == wanted), "")


def owners(customers: pd.DataFrame) -> dict[str, str]:
    """Customer id -> the rep the register gives them."""
    return dict(zip(customers["customer_id"], customers["rep"]))


def foreign_customers(sender: Sender, rows: Sequence[dict], owner: dict[str, str]) -> list[str]:
    """The customer ids in ``rows`` the sender may not record for (a 主管 may record any);
    ``owner`` as ``owners`` gives it."""
    if sender.role == schema.ROLE_MANAGER:
        return []
    return list(dict.fromkeys(r["customer_id"] for r in rows if owner.get(r["customer_id"]) != sender.name))
