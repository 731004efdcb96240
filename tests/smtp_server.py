"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the mailer tests.

It can require a login, refuse chosen recipients for good (550), answer "try
again later" (451) to others a given number of times, and hang up mid-session.
"""
from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Recorder:
    """The aiosmtpd handler: refuses what it was told to, keeps the rest."""
    reject: set[str] = field(default_factory=set)
    tempfail: dict[str, int] = field(default_factory=dict)   # address -> 451s left
    hangups: int = 0    # times to drop the connection at a session's second MAIL FROM
    received: list[Received] = field(default_factory=list)
    sessions: dict[int, int] = field(default_factory=dict)   # id(session) -> messages

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hangups and self.sessions.get(id(session), 0) > 0:
            self.hangups -= 1
            server.transport.close()   # like a server's idle timeout, mid-conversation
            return "421 4.4.2 closing connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if self.tempfail.get(address, 0) > 0:
            self.tempfail[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        self.sessions[id(session)] = self.sessions.get(id(session), 0) + 1
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]


@dataclass
class Server:
    host: str
    port: int
    handler: Recorder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Login:
    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(*, login: tuple[str, str] | None = None, reject=(),
                tempfail: dict[str, int] | None = None, hangups: int = 0) -> Iterator[Server]:
    """A running server; ``login`` = (user, password) makes it require AUTH (over plain TCP)."""
    handler = Recorder(reject=set(reject), tempfail=dict(tempfail or {}), hangups=hangups)
    auth = {"auth_required": True, "auth_require_tls": False,
            "authenticator": _Login(*login)} if login else {}
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **auth)
    controller.start()
    try:
        yield Server("127.0.0.1", port, handler)
    finally:
        controller.stop()
