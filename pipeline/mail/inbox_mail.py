"""What the emails say about the follow-up mailbox (issue 13).

- every task card gets a 「记录跟进」 ``mailto:`` link: the mailbox as the recipient, the
  customer id in the subject, one labelled line per field to fill in the body
  (percent-encoded per RFC 6068, CRLF line breaks, so phone mail apps open it filled);
- a rep's morning email starts with what their replies recorded since the previous
  working day (customer, what was recorded, the new grade and next date);
- the 主管's summary counts follow-ups per rep by the way they came (register or
  email) and lists the replies nobody could record;
- a refused sender gets one short reply saying what was wrong and how to write it.

Without ``[inbox] host`` (or without an address) nothing here changes an email.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from urllib.parse import quote

import pandas as pd

from pipeline.config import Config
from pipeline.messages import text
from pipeline.model import RepDay, State

LINK_FIELDS = ("method", "content", "need", "expected_close", "satisfaction", "next_follow_up")


def enabled(config: Config) -> bool:
    return bool(config.inbox.host and config.inbox.address)


def record_link(address: str, customer_id: str, name: str) -> str:
    """``mailto:`` the mailbox, subject 「记录跟进 C0015 名称」, a body of labelled lines."""
    subject = text("inbox.link_subject", customer_id=customer_id, name=name).strip()
    body = "\r\n".join(f"{text(f'inbox.label.{f}')}{_colon()}" for f in LINK_FIELDS) + "\r\n"
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def _colon() -> str:
    return "：" if text("inbox.label.method").isascii() is False else ": "


def with_record_links(day: RepDay, config: Config) -> RepDay:
    if not enabled(config):
        return day
    address = config.inbox.address

    def linked(tasks):
        return tuple(replace(t, record_link=record_link(address, t.customer_id, t.customer_name)) for t in tasks)
    return replace(day, tasks=linked(day.tasks), unassigned=linked(day.unassigned))


def rep_view(rep: str, state: State, config: Config, replies: Mapping) -> dict:
    """The rep email's mailbox part: the address and what their replies recorded."""
    if not enabled(config):
        return {"on": False, "address": "", "recorded": [], "example": "", "year": state.today.year}
    customers = state.customers.drop_duplicates("customer_id").set_index("customer_id")
    recorded = []
    for row in replies.get("recorded", {}).get(rep, ()):
        cid = row.get("customer_id", "")
        known = cid in customers.index
        grade = customers.at[cid, "grade"] if known and "grade" in customers else ""
        next_due = customers.at[cid, "next_follow_up"] if known and "next_follow_up" in customers else None
        recorded.append({"customer_id": cid, "name": customers.at[cid, "name"] if known else "",
                         "what": " ".join(str(row.get(f) or "") for f in ("method", "content", "need")
                                          if row.get(f)).strip(),
                         "grade": grade if isinstance(grade, str) else "",
                         "next": None if next_due is None or pd.isna(next_due) else pd.Timestamp(next_due).date()})
    return {"on": True, "address": config.inbox.address, "recorded": recorded,
            "example": text("inbox.example"), "year": state.today.year}


def owner_view(rows: Sequence, state: State, config: Config, facts: Mapping) -> dict:
    """The 主管's part: per rep, follow-ups by way (register / email); refused replies."""
    if not enabled(config):
        return {"on": False}
    by_email = facts.get("by_email", {})
    ways = [{"rep": r.rep, "register": max(r.done_yesterday - by_email.get(r.rep, 0), 0),
             "email": by_email.get(r.rep, 0)} for r in rows if r.rep]
    refused = [{"sender": e.get("sender", ""), "subject": e.get("subject", ""),
                "received": (e.get("received") or "").replace("T", " "),
                "why": [problem_text(p) for p in e.get("problems", ())]} for e in facts.get("refused", ())]
    return {"on": True, "address": config.inbox.address, "ways": ways, "refused": refused,
            "error": facts.get("error", ""), "pending": facts.get("pending", 0)}


def problem_text(problem: Mapping) -> str:
    return text(f"inbox.problem.{problem.get('code', 'nothing_found')}", line=problem.get("line", ""))


def inbox_reply(entry: Mapping, config: Config):
    """The one short reply to a refused message: what was wrong, how to write it."""
    from pipeline.mail.compose import Email, render, render_subject
    language = config.locale.language
    context = {"subject": entry.get("subject", ""), "why": [problem_text(p) for p in entry.get("problems", ())],
               "address": config.inbox.address, "example": text("inbox.example"),
               "labels": [text(f"inbox.label.{f}") for f in LINK_FIELDS]}
    day = (entry.get("received") or date.today().isoformat())[:10]
    return Email(to=entry.get("sender", ""), to_name=entry.get("rep", "") or entry.get("sender", ""),
                 subject=render_subject(language, "inbox_reply_subject.txt.j2", context),
                 html=render(language, "inbox_reply.html.j2", context),
                 text=render(language, "inbox_reply.txt.j2", context),
                 kind="inbox_reply", key=f"{day}/inbox_reply/{entry['key']}", reply_to=config.inbox.address)
