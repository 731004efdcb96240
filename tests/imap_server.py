"""A real IMAP server for the tests: pymap's in-memory backend on 127.0.0.1, a free port.

Started as its own process (``pymap --no-tls dict``) and stopped by its pid.  Messages
are delivered with IMAP APPEND, as a mail server's delivery agent would put them in.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime

from imap_tools import MailBoxUnencrypted

USER, PASSWORD = "followup", "secret-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def imap_server():
    """Yields the port of a running pymap server with one mailbox (USER / PASSWORD)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())",
         "--host", "127.0.0.1", "--port", str(port), "--no-tls",
         "dict", "--demo-user", USER, "--demo-password", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pymap did not start")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def mailbox(port: int):
    return MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD)


def reply(sender: str, subject: str, body: str, *, when: datetime | None = None,
          message_id: str | None = None, auth_results: str | None = None, html: str | None = None,
          headers: dict | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "followup@shop.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime((when or datetime(2026, 12, 1, 9, 12)).astimezone())
    msg["Message-ID"] = message_id or make_msgid(domain="phone.example")
    if auth_results:
        msg["Authentication-Results"] = auth_results
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def deliver(port: int, *messages: bytes, folder: str = "INBOX") -> None:
    with mailbox(port) as box:
        for data in messages:
            box.append(data, folder)


def folder_subjects(port: int, folder: str) -> list[str]:
    with mailbox(port) as box:
        names = {f.name for f in box.folder.list()}
        if folder not in names:
            return []
        box.folder.set(folder)
        return [m.subject for m in box.fetch(mark_seen=False)]
