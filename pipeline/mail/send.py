"""Sending the morning emails once, or writing them to the outbox (issue #5).

The I/O edge of the emails: SMTP, the ledger of what was sent, the outbox folder.

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

import json
import re
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import yagmail

from pipeline.config import MailConfig
from pipeline.mail.compose import Email
from pipeline.messages import text


@dataclass(frozen=True)
class Delivery:
    key: str
    to: str
    status: str          # "sent" | "already_sent" | "outbox" | "failed"
    error: str = ""
    path: Path | None = None   # the .eml in the outbox, when one was written


class _Fatal(Exception):
    """A failure no retry can fix and that stops all sending (bad login, sender refused)."""


class _Permanent(Exception):
    """This message cannot go (recipient refused, message rejected); others may."""


def sender_address(mail: MailConfig) -> str:
    return mail.from_address or mail.user


def send_decision(mail: MailConfig, *, working_day: bool, dry_run: bool,
                  password: str | None, outbox: Path) -> tuple[bool, str]:
    """Whether to send today, and the one line that says why not ("" when sending)."""
    if dry_run:
        return False, text("mail.dry_run", outbox=outbox)
    if not mail.host:
        return False, text("mail.no_host", outbox=outbox)
    if not sender_address(mail):
        return False, text("mail.no_sender", outbox=outbox)
    if mail.user and not password:
        return False, text("mail.no_password", env=mail.password_env,
                           service=mail.keyring_service or mail.host, outbox=outbox)
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
    return msg


def deliver(emails: Sequence[Email], mail: MailConfig, *, day: date, outbox: Path,
            ledger: Path, send: bool, resend: bool = False, password: str | None = None,
            sleep=time.sleep) -> list[Delivery]:
    """Send each email once (or write it to ``outbox``); one Delivery per email, in order."""
    sent_before = read_ledger(ledger)
    now = datetime.now().astimezone()
    connection = _Connection(mail, password) if send else None
    fatal = ""
    results = []
    try:
        for email in emails:
            if email.key in sent_before and not resend:
                results.append(Delivery(email.key, email.to, "already_sent"))
                continue
            msg = build_message(email, mail, day, now)
            if connection is None:
                results.append(Delivery(email.key, email.to, "outbox",
                                        path=write_outbox(outbox, email, msg)))
                continue
            error = fatal or _send_with_retries(connection, msg, email, mail, sleep)
            if isinstance(error, _Fatal):
                fatal = error = str(error)
            if error:
                results.append(Delivery(email.key, email.to, "failed", error=error,
                                        path=write_outbox(outbox, email, msg)))
                continue
            record_sent(ledger, email, msg)
            results.append(Delivery(email.key, email.to, "sent"))
    finally:
        if connection is not None:
            connection.close()
    return results


def _send_with_retries(connection: "_Connection", msg: EmailMessage, email: Email,
                       mail: MailConfig, sleep) -> str | _Fatal:
    """"" when sent; else the error text (a _Fatal when all sending must stop)."""
    if not email.to:
        return text("mail.no_address", name=email.to_name)
    for attempt in range(mail.retries + 1):
        try:
            connection.send(msg, email.to)
            return ""
        except _Permanent as e:
            return str(e)
        except _Fatal as e:
            return e
        except (OSError, smtplib.SMTPException) as e:   # transient: reconnect, back off
            connection.reset()
            error = _describe(e)
            unreachable = not isinstance(e, smtplib.SMTPResponseException) or \
                isinstance(e, smtplib.SMTPConnectError)
            if attempt < mail.retries:
                sleep(mail.retry_backoff_seconds * 2 ** attempt)
    # A server that stayed unreachable is not waited for again for the other emails;
    # a "try later" about this one message leaves the others to go.
    return _Fatal(error) if unreachable else error


class _Connection:
    """One SMTP connection opened through yagmail, reopened after a failure."""

    def __init__(self, mail: MailConfig, password: str | None):
        self.mail, self.password = mail, password
        self.yag: yagmail.SMTP | None = None

    def _open(self) -> None:
        mail = self.mail
        login = mail.user or sender_address(mail)
        extra = {"context": ssl.create_default_context()} if mail.security == "ssl" else {}
        # smtplib's default TLS context does not check the certificate; this one does.
        starttls = {"context": ssl.create_default_context()} if mail.security == "starttls" else False
        self.yag = yagmail.SMTP(
            {login: login}, self.password or "", host=mail.host, port=mail.port,
            smtp_ssl=mail.security == "ssl", smtp_starttls=starttls,
            smtp_skip_login=not mail.user, soft_email_validation=False,
            timeout=mail.timeout_seconds, **extra)
        self.yag.set_logging(None)   # failures are reported by the run, not by yagmail
        try:
            self.yag.login()
        except smtplib.SMTPAuthenticationError as e:
            raise _Fatal(text("mail.login_failed", error=_describe(e))) from e
        except smtplib.SMTPNotSupportedError as e:
            raise _Fatal(_describe(e)) from e

    def send(self, msg: EmailMessage, to: str) -> None:
        if self.yag is None:
            self._open()
        try:
            refused = self.yag.smtp.send_message(msg, from_addr=sender_address(self.mail),
                                                 to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as e:
            refused = e.recipients
        except smtplib.SMTPSenderRefused as e:
            raise _Fatal(_describe(e)) from e
        except smtplib.SMTPResponseException as e:
            if e.smtp_code >= 500:
                raise _Permanent(_describe(e)) from e
            raise
        if refused:
            code, reply = next(iter(refused.values()))
            error = f"{code} {_decode(reply)}"
            if code >= 500:
                raise _Permanent(error)
            raise smtplib.SMTPResponseException(code, error)

    def reset(self) -> None:
        self.close()
        self.yag = None

    def close(self) -> None:
        if self.yag is not None and self.yag.smtp is not None:
            try:
                self.yag.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.yag.smtp.close()
            self.yag.is_closed = True


def _decode(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_decode(error.smtp_error)}"
    return f"{type(error).__name__}: {error}".rstrip(": ")


def read_ledger(ledger: Path) -> set[str]:
    """The keys already sent; a torn last line (a run killed mid-write) is skipped."""
    keys = set()
    if ledger.exists():
        for line in ledger.read_text(encoding="utf-8").splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except (ValueError, KeyError, TypeError):
                continue
    return keys


def record_sent(ledger: Path, email: Email, msg: EmailMessage) -> None:
    ledger.parent.mkdir(parents=True, exist_ok=True)
    entry = {"key": email.key, "to": email.to, "kind": email.kind,
             "message_id": msg["Message-ID"], "subject": email.subject,
             "sent_at": datetime.now().astimezone().isoformat(timespec="seconds")}
    with ledger.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def outbox_name(key: str) -> str:
    """'2026-11-23/rep/王强' -> 'rep-王强' (safe on Windows and Linux file systems)."""
    name = key.split("/", 1)[-1].replace("/", "-")
    return re.sub(r'[\\:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "email"


def write_outbox(outbox: Path, email: Email, msg: EmailMessage) -> Path:
    """The .eml (opens in any mail app, ready to send by hand) and an .html preview."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{outbox_name(email.key)}.eml"
    path.write_bytes(msg.as_bytes())
    path.with_suffix(".html").write_text(email.html, encoding="utf-8")
    return path


def failed_deliveries(deliveries: Sequence[Delivery], emails: Sequence[Email]) -> list[dict]:
    """The failures as the 主管's summary lists them (run_facts["failed_deliveries"])."""
    names = {e.key: e.to_name for e in emails}
    return [{"to": d.to, "name": names.get(d.key, ""), "error": d.error}
            for d in deliveries if d.status == "failed"]


def delivery_summary(deliveries: Sequence[Delivery]) -> dict:
    """For summary.json."""
    count = {s: sum(d.status == s for d in deliveries)
             for s in ("sent", "already_sent", "outbox", "failed")}
    return {**count, "failures": [{"key": d.key, "to": d.to, "error": d.error,
                                   "eml": str(d.path) if d.path else ""}
                                  for d in deliveries if d.status == "failed"]}
