"""Where the mail password comes from: an environment variable, else the system keyring.

The password never lives in config.toml.  This is the one place that reads the
environment and the keyring for it, and it never asks: the nightly run has nobody to
type a password (yagmail would fall back to getpass when given None, so the mailer
always passes what this returns or skips login).
"""
from __future__ import annotations

from collections.abc import Mapping

from pipeline.config import InboxConfig, MailConfig


def find_password(mail: MailConfig | InboxConfig, environ: Mapping[str, str]) -> str | None:
    """The SMTP password, or None when neither the environment nor the keyring has it.

    The environment variable is ``mail.password_env``; the keyring entry is service
    ``mail.keyring_service`` (default: the SMTP host), user ``mail.user``.
    """
    if mail.password_env and environ.get(mail.password_env):
        return environ[mail.password_env]
    if not mail.user:
        return None
    # [inbox] has no keyring_service key: its entry is always under the IMAP host.
    return _from_keyring(getattr(mail, "keyring_service", "") or mail.host, mail.user)


def _from_keyring(service: str, user: str) -> str | None:
    try:
        import keyring
        return keyring.get_password(service, user) or None
    # Backends fail in many ways (no backend on a server, a locked or broken D-Bus
    # session, a missing OS library); each only means "no password here".
    except Exception:   # noqa: BLE001
        return None
