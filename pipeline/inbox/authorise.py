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
    """The active rep or 主管 whose 邮箱 is ``address`` (case does not matter), or None."""
    wanted = address.strip().lower()
    if not wanted:
        return None
    usable = reps[~reps["blocked"].astype(bool)]
    for name, email, role, active in zip(usable["name"], usable["email"], usable["role"], usable["active"]):
        if str(email).strip().lower() == wanted and (bool(active) or role == schema.ROLE_MANAGER):
            return Sender(str(name), str(role))
    return None


def owners(customers: pd.DataFrame) -> dict[str, str]:
    """Customer id -> the rep the register gives them."""
    return dict(zip(customers["customer_id"], customers["rep"]))


def foreign_customers(sender: Sender, rows: Sequence[dict], owner: dict[str, str]) -> list[str]:
    """The customer ids in ``rows`` the sender may not record for (a 主管 may record any);
    ``owner`` as ``owners`` gives it."""
    if sender.role == schema.ROLE_MANAGER:
        return []
    return list(dict.fromkeys(r["customer_id"] for r in rows if owner.get(r["customer_id"]) != sender.name))
