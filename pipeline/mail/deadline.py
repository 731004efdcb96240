"""A deadline for one SMTP conversation: ``[mail] timeout_seconds`` bounds the whole exchange.

smtplib's timeout applies to each read and write on the socket, so a server that
trickles a byte every few seconds never trips it and holds the night's run for hours.
Here a watchdog timer shuts the socket down when the deadline passes; the read that
is waiting then fails at once, and :meth:`Deadline.check` turns that failure into a
``TimeoutError`` that says the time ran out.  The deadline covers connecting, the
greeting, the login and sending one message (and, separately, saying goodbye).
"""
from __future__ import annotations

import smtplib
import socket
import threading

import yagmail

from pipeline.messages import text


class Deadline:
    """Armed with ``with deadline:``; shuts down the watched connection's socket on expiry."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._smtp: smtplib.SMTP | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def watch(self, smtp: smtplib.SMTP) -> None:
        self._smtp = smtp

    def __enter__(self) -> Deadline:
        self.expired = False
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _expire(self) -> None:
        with self._lock:
            if self._timer is None:
                return
            self.expired = True
            sock = getattr(self._smtp, "sock", None)
        if sock is not None:
            try:
                # The plain socket's shutdown (not SSLSocket's, which also drops its
                # TLS state under the reading thread): the blocked read gets EOF.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def check(self, error: BaseException) -> BaseException:
        """The error to raise: a TimeoutError naming the limit when the deadline caused it."""
        if self.expired:
            return TimeoutError(text("mail.timeout", seconds=f"{self.seconds:g}"))
        return error


def _with_deadline(base: type[smtplib.SMTP]) -> type[smtplib.SMTP]:
    class Watched(base):   # type: ignore[misc, valid-type]
        def __init__(self, *args, deadline: Deadline, **kwargs):
            self._deadline = deadline
            deadline.watch(self)
            super().__init__(*args, **kwargs)

        def _get_socket(self, host, port, timeout):
            sock = super()._get_socket(host, port, timeout)
            if self._deadline.expired:   # the connect itself used up the time
                sock.close()
                raise TimeoutError(text("mail.timeout", seconds=f"{self._deadline.seconds:g}"))
            return sock
    Watched.__name__ = f"Deadline{base.__name__}"
    return Watched


_SMTP, _SMTP_SSL = _with_deadline(smtplib.SMTP), _with_deadline(smtplib.SMTP_SSL)


class DeadlineYagmail(yagmail.SMTP):
    """yagmail's connection, opened through smtplib classes that obey a :class:`Deadline`
    (pass ``deadline=`` with the other keyword arguments)."""

    @property
    def connection(self):
        return _SMTP_SSL if self.ssl else _SMTP
