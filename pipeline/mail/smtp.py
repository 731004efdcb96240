"""The SMTP conversation: one connection opened through yagmail, each message sent with
retries and back-off, every refusal seen (smtplib raises where yagmail would hide it).

``timeout_seconds`` is a deadline for each message's whole conversation
(``pipeline.mail.deadline``), not a limit per read.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import yagmail

from pipeline.config import MailConfig
from pipeline.mail.compose import Email
from pipeline.mail.deadline import Deadline, DeadlineYagmail
from pipeline.messages import text


def sender_address(mail: MailConfig) -> str:
    return mail.from_address or mail.user


class Fatal(Exception):
    """A failure no retry can fix and that stops all sending (bad login, sender refused)."""


class Permanent(Exception):
    """This message cannot go (recipient refused, message rejected); others may."""


def send_with_retries(connection: Connection, msg: EmailMessage, email: Email,
                      mail: MailConfig, sleep) -> str | Fatal:
    """"" when sent; else the error text (a Fatal when all sending must stop)."""
    if not email.to:
        return text("mail.no_address", name=email.to_name)
    for attempt in range(mail.retries + 1):
        try:
            connection.send(msg, email.to)
            return ""
        except Permanent as e:
            return str(e)
        except Fatal as e:
            return e
        except (OSError, smtplib.SMTPException) as e:   # transient: reconnect, back off
            connection.reset()
            error = describe(e)
            unreachable = not isinstance(e, smtplib.SMTPResponseException) or \
                isinstance(e, smtplib.SMTPConnectError)
            if attempt < mail.retries:
                sleep(mail.retry_backoff_seconds * 2 ** attempt)
    # A server that stayed unreachable is not waited for again for the other emails;
    # a "try later" about this one message leaves the others to go.
    return Fatal(error) if unreachable else error


class Connection:
    """One SMTP connection opened through yagmail, reopened after a failure."""

    def __init__(self, mail: MailConfig, password: str | None):
        self.mail, self.password = mail, password
        self.yag: yagmail.SMTP | None = None
        # timeout_seconds bounds each message's whole conversation, not each read.
        self.deadline = Deadline(mail.timeout_seconds)

    def _open(self) -> None:
        mail = self.mail
        login = mail.user or sender_address(mail)
        extra = {"context": ssl.create_default_context()} if mail.security == "ssl" else {}
        # smtplib's default TLS context does not check the certificate; this one does.
        starttls = {"context": ssl.create_default_context()} if mail.security == "starttls" else False
        self.yag = DeadlineYagmail(
            {login: login}, self.password or "", host=mail.host, port=mail.port,
            smtp_ssl=mail.security == "ssl", smtp_starttls=starttls,
            smtp_skip_login=not mail.user, soft_email_validation=False,
            timeout=mail.timeout_seconds, deadline=self.deadline, **extra)
        self.yag.set_logging(None)   # failures are reported by the run, not by yagmail
        try:
            self.yag.login()
        except smtplib.SMTPAuthenticationError as e:
            raise Fatal(text("mail.login_failed", error=describe(e))) from e
        except smtplib.SMTPNotSupportedError as e:
            raise Fatal(describe(e)) from e

    def send(self, msg: EmailMessage, to: str) -> None:
        with self.deadline:
            try:
                self._send(msg, to)
            except (OSError, smtplib.SMTPException) as e:
                raise self.deadline.check(e) from e

    def _send(self, msg: EmailMessage, to: str) -> None:
        if self.yag is None:
            self._open()
        try:
            refused = self.yag.smtp.send_message(msg, from_addr=sender_address(self.mail),
                                                 to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as e:
            refused = e.recipients
        except smtplib.SMTPSenderRefused as e:
            raise Fatal(describe(e)) from e
        except smtplib.SMTPNotSupportedError as e:   # e.g. this address needs SMTPUTF8: this message only
            raise Permanent(describe(e)) from e
        except smtplib.SMTPResponseException as e:
            if e.smtp_code >= 500:
                raise Permanent(describe(e)) from e
            raise
        if refused:
            code, reply = next(iter(refused.values()))
            error = f"{code} {_decode(reply)}"
            if code >= 500:
                raise Permanent(error)
            raise smtplib.SMTPResponseException(code, error)

    def reset(self) -> None:
        self.close()
        self.yag = None

    def close(self) -> None:
        if self.yag is not None and self.yag.smtp is not None:
            try:
                with self.deadline:
                    self.yag.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.yag.smtp.close()
            self.yag.is_closed = True


def _decode(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_decode(error.smtp_error)}"
    return f"{type(error).__name__}: {error}".rstrip(": ")
