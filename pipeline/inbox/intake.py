"""One pass over the mailbox: each new message judged, journalled, then moved.

The flow, for every message in ``[inbox] folder``:

1. already in the journal (a run died before moving it, or the same Message-ID came
   again): nothing is read again; it is only moved where its verdict says;
2. otherwise read (parse), checked (authorise), and its verdict journalled: accepted
   with its rows, or refused with what was wrong;
3. moved to ``done_folder`` (accepted) or ``unreadable_folder`` (refused).

Replies to refused senders and the write into the register are the runner's: this
module returns what they need.  A mailbox that cannot be reached is one line for the
terminal and the 主管, never the end of the run.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.config import InboxConfig
from pipeline.inbox import authorise
from pipeline.inbox.fetch import Message
from pipeline.inbox.journal import Journal
from pipeline.inbox import rows as email_rows
from pipeline.inbox.parse import id_lookup, in_chinese, parse_reply
from pipeline.messages import every_language, text_in
from pipeline.model import Register

ACCEPTED, REFUSED = "accepted", "refused"


@dataclass
class Intake:
    """What a pass over the mailbox did."""
    new: list[dict] = field(default_factory=list)        # entries journalled by this pass
    moved: int = 0
    error: str = ""                                      # the mailbox could not be read: why


def link_labels() -> dict[str, tuple[str, ...]]:
    """The labels the 「记录跟进」 link pre-fills, in both languages, for the parser."""
    from pipeline.inbox.parse import REPLY_FIELDS
    return {name: every_language(f"inbox.label.{name}") for name in REPLY_FIELDS}


@dataclass(frozen=True)
class Known:
    """What judging needs from the register, looked up once per pass."""
    register: Register
    ids: dict[str, str]            # ID.upper() -> customer id
    owner: dict[str, str]          # customer id -> rep
    labels: dict[str, tuple[str, ...]]
    source_word: str               # the 来源 cell's word, in the register's language (rows.source_word)
    english: bool = False          # the register's headers are English (its contact words too)

    @classmethod
    def of(cls, register: Register) -> "Known":
        customers = register.customers[~register.customers["blocked"].astype(bool)]
        return cls(register, id_lookup(set(customers["customer_id"]) - {""}), authorise.owners(customers),
                   link_labels(), email_rows.source_word(register),
                   email_rows.register_language(register) == "en")


def judge(message: Message, known: Known | Register, today: date) -> dict:
    """The journal entry for one new message: accepted with rows, or refused with reasons."""
    known = known if isinstance(known, Known) else Known.of(known)
    register = known.register
    sent = message.sent or datetime.combine(today, datetime.min.time())
    if sent.date() > today:     # a phone with a wrong clock: the row is dated today, not in the future
        sent = datetime.combine(today, sent.time())
    entry = {"key": message.key, "sender": message.sender, "automatic": message.automatic, "subject": message.subject,
             "received": sent.strftime("%Y-%m-%dT%H:%M"), "rep": "", "rows": [], "problems": []}
    failed = authorise.failed_checks(message.auth_results)
    sender = authorise.find_sender(message.sender, register.reps)
    problems: list[dict] = []
    if failed:
        problems.append({"code": "auth_failed", "line": ", ".join(failed)})
    elif sender is None:
        unclear = authorise.unclear_name(message.sender, register.reps)
        problems.append({"code": "unclear_rep", "line": unclear} if unclear else
                        {"code": "stranger", "line": message.sender})
    rows: list[dict] = []
    if not problems:
        reply = parse_reply(message.subject, message.text, sent.date(), known.ids, known.labels)
        problems += [{"code": code, "line": line} for line, code in reply.not_understood]
        # The register's words, whatever language the email was in (as 需求 潜在 for "latent").
        rows = [dict(r, rep=sender.name, source=source_text(sent, known.source_word),
                     method=r["method"] if known.english else in_chinese(r["method"])) for r in reply.rows]
        problems += [{"code": "not_your_customer", "line": cid}
                     for cid in authorise.foreign_customers(sender, rows, known.owner)]
        entry["rep"] = sender.name
    entry["status"] = REFUSED if problems else ACCEPTED
    entry["problems"] = problems
    entry["rows"] = [] if problems else rows
    return entry


def source_text(sent: datetime, word: str | None = None) -> str:
    """The 来源 cell of a row that came by email: ``邮件 2026-12-01 09:12`` (``word``: the
    register's word for 邮件, see ``rows.source_word``)."""
    return f"{word or text_in('zh', 'inbox.source_email')} {sent.strftime('%Y-%m-%d %H:%M')}"


def take_in(box, config: InboxConfig, messages: Sequence[Message], register: Register,
            journal: Journal, today: date) -> Intake:
    """Judge, journal and move each message (see the module's docstring)."""
    from pipeline.inbox import fetch
    intake = Intake()
    to_folder: dict[str, list[str]] = {config.done_folder: [], config.unreadable_folder: []}
    known = Known.of(register) if messages else None
    verdicts: dict[str, dict] = {}
    for message in messages:
        if not journal.has(message.key) and message.key not in verdicts:
            verdicts[message.key] = judge(message, known, today)
    journal.record_all(list(verdicts.values()))     # durable before any message leaves the inbox
    intake.new = [journal.get(key) for key in verdicts]
    for message in messages:
        status = journal.get(message.key).get("status")
        to_folder[config.done_folder if status == ACCEPTED else config.unreadable_folder].append(message.uid)
    if any(to_folder.values()):
        fetch.ensure_folders(box, [name for name, uids in to_folder.items() if uids])
        box.folder.set(config.folder)
        for folder, uids in to_folder.items():
            fetch.move(box, uids, folder)
            intake.moved += len(uids)
    return intake
