"""Sending the morning emails once, or writing them to the outbox (issue #5).

The I/O edge of the emails: each email is built, recorded in the sent-ledger
(``pipeline.mail.ledger``: "sending" before, "sent" after), sent (``pipeline.mail.smtp``)
or kept in the outbox (``pipeline.mail.outbox``).  One email's failure, whatever it
is (an address the mail library refuses, a server that refuses it, a full disk), is
that email's alone: it is reported and the others go on.

yagmail is used only to open the connection and log in.  Its ``send()`` has traps
for this use, so the message is built here with the ``email`` package and handed to
yagmail's underlying smtplib connection:
- it turns every newline of HTML content into ``<br>``, which breaks our layout;
- its "plain text" alternative carries the HTML, so a text-only reader sees tags;
- its Message-ID is a hash of from, to and subject, so a rep's daily email would
  carry the same id every day and mail apps thread or drop it as a duplicate;
- it returns False after failing instead of raising, which hides refusals;
- a login name without "@" silently becomes "name@gmail.com" (a one-entry dict
  {user: user} is taken as-is), and a None password makes it prompt (getpass).
smtplib's ``send_message`` raises on refusal, so every failure is seen and reported.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from pipeline.config import MailConfig
from pipeline.mail.compose import Email
from pipeline.mail.ledger import (
    FAILED,
    SENDING,
    SENT,
    ledger_status,
    read_ledger,
    record,
)
from pipeline.mail.outbox import outbox_name, write_outbox
from pipeline.mail.smtp import (
    Connection,
    Fatal,
    describe,
    send_with_retries,
    sender_address,
)
from pipeline.messages import text

__all__ = [
    "Delivery",
    "build_message",
    "compose_each",
    "deliver",
    "delivery_summary",
    "failed_deliveries",
    "outbox_name",
    "password_env_is_a_name",
    "read_ledger",
    "send_decision",
    "sender_address",
]
log = logging.getLogger("pipeline")
# What an environment variable's name looks like on every system the shop may use.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Delivery:
    key: str
    to: str
    status: str          # "sent" | "already_sent" | "uncertain" | "outbox" | "failed"
    error: str = ""
    path: Path | None = None   # the .eml in the outbox, when one was written
    name: str = ""       # the recipient's name, as the 主管's summary lists failures


def password_env_is_a_name(mail: MailConfig) -> bool:
    """Whether ``[mail] password_env`` can be an environment variable's name (or is empty)."""
    return not mail.password_env or bool(_ENV_NAME.match(mail.password_env))


def send_decision(mail: MailConfig, *, working_day: bool, dry_run: bool,
                  password: str | None, outbox: Path) -> tuple[bool, str]:
    """Whether to send today, and the one line that says why not ("" when sending)."""
    if dry_run:
        return False, text("mail.dry_run", outbox=outbox)
    if not mail.host:
        return False, text("mail.no_host", outbox=outbox)
    if not sender_address(mail):
        return False, text("mail.no_sender", outbox=outbox)
    if mail.user and not password_env_is_a_name(mail):
        # Most likely the password itself was pasted there: never repeat it anywhere.
        return False, text("mail.password_env_not_a_name", outbox=outbox)
    if mail.user and not password:
        return False, text("mail.no_password", service=mail.keyring_service or mail.host, outbox=outbox)
    if not working_day and not mail.send_on_days_off:
        return False, text("mail.day_off", outbox=outbox)
    return True, ""


def build_message(email: Email, mail: MailConfig, day: date, now: datetime) -> EmailMessage:
    """The MIME message: plain text first, HTML as the preferred alternative."""
    sender = sender_address(mail) or "outbox@localhost"
    msg = EmailMessage()
    msg["Subject"] = email.subject
    msg["From"] = Address(display_name=mail.from_name, addr_spec=sender)
    msg["To"] = Address(display_name=email.to_name, addr_spec=email.to) if email.to else \
        Address(display_name=email.to_name, username="undisclosed-recipients", domain="invalid")
    if email.reply_to:   # replies go to the follow-up mailbox (issue 13)
        msg["Reply-To"] = email.reply_to
    if email.kind == "inbox_reply":   # RFC 3834: an auto-responder must not answer it
        msg["Auto-Submitted"] = "auto-replied"
    msg["Date"] = format_datetime(now)
    # Fresh every time (time, pid, random): never the same for two days or two people.
    msg["Message-ID"] = make_msgid(idstring=day.strftime("%Y%m%d"),
                                   domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(email.text, charset="utf-8")
    msg.add_alternative(email.html, subtype="html", charset="utf-8")
    msg.as_bytes()   # a header the email library cannot write fails here, for this message only
    return msg


def compose_each(items: Sequence, build, key_of) -> tuple[list[Email], list[Delivery]]:
    """``build(item)`` for each item; one that raises becomes a failed Delivery, the rest go on.

    ``key_of(item)`` gives (ledger key, address, name) for the failure's line.
    """
    built, failed = [], []
    for item in items:
        try:
            built.append(build(item))
        except Exception as e:   # one recipient's failure is that recipient's
            log.debug("composing an email failed", exc_info=True)
            key, to, name = key_of(item)
            failed.append(Delivery(key, to, "failed", name=name,
                                   error=text("mail.cannot_build", error=describe(e))))
    return built, failed


@dataclass
class _Night:
    """What one call of ``deliver`` carries from message to message."""
    mail: MailConfig
    day: date
    now: datetime
    outbox: Path
    ledger: Path
    status: dict[str, str]                 # ledger key -> "sent" / "sending" / "failed"
    connection: Connection | None
    sleep: object
    stop: str = ""                         # why all further sending stopped


def deliver(emails: Sequence[Email], mail: MailConfig, *, day: date, outbox: Path,
            ledger: Path, send: bool, resend: bool = False, password: str | None = None,
            sleep=time.sleep, earlier_ledgers: Sequence[Path] = ()) -> list[Delivery]:
    """Send each email once (or write it to ``outbox``); one Delivery per email, in order.

    ``earlier_ledgers`` are read too (a ledger kept elsewhere before), never written.
    One email's failure, whatever it is, is that email's alone.
    """
    stop = ""
    try:
        status = {} if resend else ledger_status([*earlier_ledgers, ledger])
    except OSError as e:   # not knowing what went out, sending could send it twice
        status, stop = {}, text("mail.ledger_unwritable", ledger=ledger, error=describe(e))
    night = _Night(mail, day, datetime.now().astimezone(), outbox, ledger, status,
                   Connection(mail, password) if send else None, sleep, stop)
    results = []
    try:
        for email in emails:
            try:
                results.append(_deliver_one(email, night))
            except Exception as e:   # a bug must not cost the others their email
                log.debug("delivering an email failed", exc_info=True)
                results.append(_failed(email, night, None, text("mail.cannot_send", error=describe(e))))
    finally:
        if night.connection is not None:
            night.connection.close()
    return results


def _deliver_one(email: Email, night: _Night) -> Delivery:
    before = night.status.get(email.key)
    if before == SENT:
        return Delivery(email.key, email.to, "already_sent", name=email.to_name)
    try:
        msg = build_message(email, night.mail, night.day, night.now)
    except Exception as e:   # e.g. a header the email library refuses: this email only
        log.debug("building an email failed", exc_info=True)
        return _failed(email, night, None, text("mail.cannot_build", error=describe(e)))
    if before == SENDING:   # kept in the outbox, to forward if the recipient did not get it
        path, _ = _keep(night.outbox, email, msg)
        return Delivery(email.key, email.to, "uncertain", error=text("mail.uncertain"), path=path,
                        name=email.to_name)
    if night.connection is None:
        path, error = _keep(night.outbox, email, msg)
        return Delivery(email.key, email.to, "outbox" if path else "failed", error=error,
                        path=path, name=email.to_name)
    if not email.to:   # nothing can go: no ledger line for it
        return _failed(email, night, msg, text("mail.no_address", name=email.to_name))
    error = night.stop or _record(night, SENDING, email, msg)
    if error:
        return _failed(email, night, msg, error)
    error = send_with_retries(night.connection, msg, email, night.mail, night.sleep)
    if isinstance(error, Fatal):
        night.stop = error = str(error)
    if error:
        _record(night, FAILED, email, msg)   # not sent: the next run may send it
        return _failed(email, night, msg, error)
    return Delivery(email.key, email.to, "sent", name=email.to_name,
                    error=_record(night, SENT, email, msg))


def _record(night: _Night, status: str, email: Email, msg: EmailMessage) -> str:
    """"" when the ledger line is on disk; else the reason, and no more is sent tonight."""
    try:
        record(night.ledger, status, email.key, email.to, email.kind, email.subject, msg)
    except OSError as e:
        log.debug("the sent-ledger cannot be written", exc_info=True)
        night.stop = night.stop or text("mail.ledger_unwritable", ledger=night.ledger, error=describe(e))
        return night.stop
    return ""


def _failed(email: Email, night: _Night, msg: EmailMessage | None, error: str) -> Delivery:
    path, kept_error = _keep(night.outbox, email, msg)
    return Delivery(email.key, email.to, "failed", error="；".join(filter(None, (error, kept_error))),
                    path=path, name=email.to_name)


def _keep(outbox: Path, email: Email, msg: EmailMessage | None) -> tuple[Path | None, str]:
    """The email written to the outbox: (its path, "") or (None, why it could not be)."""
    try:
        return write_outbox(outbox, email.key, email.html, msg), ""
    except OSError as e:   # disk full, folder read-only: said on the delivery's line
        return None, text("mail.outbox_unwritable", error=describe(e))


def failed_deliveries(deliveries: Sequence[Delivery], emails: Sequence[Email] = ()) -> list[dict]:
    """What the 主管's summary lists (run_facts["failed_deliveries"]): the emails that did
    not go, and those a broken-off earlier run may or may not have sent."""
    names = {e.key: e.to_name for e in emails}
    return [{"to": d.to, "name": d.name or names.get(d.key, ""), "error": d.error}
            for d in deliveries if d.status in ("failed", "uncertain")]


def delivery_summary(deliveries: Sequence[Delivery]) -> dict:
    """For summary.json."""
    count = {s: sum(d.status == s for d in deliveries)
             for s in ("sent", "already_sent", "uncertain", "outbox", "failed")}
    return {**count, "failures": [{"key": d.key, "to": d.to, "name": d.name, "error": d.error,
                                   "eml": str(d.path) if d.path else ""}
                                  for d in deliveries if d.status == "failed"],
            "uncertain_keys": [{"key": d.key, "to": d.to, "name": d.name}
                               for d in deliveries if d.status == "uncertain"],
            "notes": sorted({d.error for d in deliveries if d.status == "sent" and d.error})}
