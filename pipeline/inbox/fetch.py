"""The follow-up mailbox over IMAP (imap-tools): fetch what is new, move what was handled.

The only module that talks to the mail server.  Folders are named in config as the
shop reads them (已录入, 未处理); imap-tools carries them in IMAP's modified UTF-7
(RFC 3501), so Chinese names work on every server, and a folder that does not exist
yet is created before the first message is moved there.  Messages are read without
marking them seen, so a person looking at the mailbox sees what is new.
"""
from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from lxml import html as lxml_html

from pipeline.config import InboxConfig

TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Message:
    uid: str
    key: str                  # the Message-ID, else a digest of the message
    sender: str               # the From address, lower-case
    subject: str
    text: str                 # the plain text the sender wrote (HTML turned into text)
    sent: datetime | None     # the Date header in local time, None when missing or unreadable
    auth_results: tuple[str, ...]
    automatic: bool = False   # an auto-reply, bounce or list mail: never answered (no mail loops)


def connect(config: InboxConfig, password: str | None):
    """A logged-in mailbox (a context manager); raises on a server or login failure."""
    if config.security == "ssl":
        box = MailBox(config.host, config.port, timeout=TIMEOUT_SECONDS,
                      ssl_context=ssl.create_default_context())
    elif config.security == "starttls":
        box = MailBoxStartTls(config.host, config.port, timeout=TIMEOUT_SECONDS,
                              ssl_context=ssl.create_default_context())
    else:
        box = MailBoxUnencrypted(config.host, config.port, timeout=TIMEOUT_SECONDS)
    return box.login(config.user or config.address, password or "", initial_folder=config.folder)


def fetch_new(box, folder: str) -> list[Message]:
    """Every message in ``folder`` (the handled ones were moved out), oldest first."""
    box.folder.set(folder)
    return [as_message(m) for m in box.fetch(mark_seen=False, bulk=200)]


def as_message(mail) -> Message:
    ids = mail.headers.get("message-id") or ()
    key = ids[0].strip() if ids and ids[0].strip() else \
        "sha256:" + hashlib.sha256(mail.obj.as_bytes()).hexdigest()
    text = mail.text or ""
    if not text.strip() and mail.html:
        text = html_text(mail.html)
    sent = mail.date if mail.date_str and mail.date.year > 1900 else None
    if sent is not None:
        sent = sent.astimezone() if sent.tzinfo else sent
    sender = (mail.from_ or "").strip().lower()
    return Message(uid=mail.uid, key=key, sender=sender, subject=mail.subject or "", text=text, sent=sent,
                   auth_results=tuple(mail.headers.get("authentication-results") or ()),
                   automatic=is_automatic(mail.headers, sender))


_ROBOTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply")


def is_automatic(headers: dict, sender: str) -> bool:
    """RFC 3834 Auto-Submitted, Precedence bulk/junk/list, mailing lists, bounces."""
    first = {name: (values[0] if values else "").strip().lower() for name, values in headers.items()}
    return (first.get("auto-submitted", "no") not in ("", "no")
            or first.get("precedence", "") in ("bulk", "junk", "list", "auto_reply")
            or "list-id" in first or "x-autoreply" in first or "x-autorespond" in first
            or not sender or sender.split("@")[0] in _ROBOTS)


def html_text(markup: str) -> str:
    """The text of an HTML-only reply, one line per block (quoted <blockquote>s left out)."""
    try:
        root = lxml_html.fromstring(markup)
    except (ValueError, TypeError):
        return ""
    for quote in root.iter("blockquote"):
        quote.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "tr"):
        block.tail = "\n" + (block.tail or "")
    return root.text_content()


def ensure_folders(box, names: Iterable[str]) -> None:
    existing = {f.name for f in box.folder.list()}
    for name in names:
        if name not in existing:
            box.folder.create(name)


def move(box, uids: Sequence[str], folder: str) -> None:
    if uids:
        box.move(list(uids), folder)
