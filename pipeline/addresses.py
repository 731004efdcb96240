"""What counts as an email address: one the mail library can put in a message and an SMTP
server without SMTPUTF8 can take (ASCII before the @, a well-formed domain; no DNS lookup).

Used for the 业务员 and 客户 邮箱 cells and for config.toml's sender, so the two never disagree.
email-validator also refuses special-use domain names (``.local``, ``.test``…) as not
deliverable on the public internet; a shop's own mail server may well use one (an office
NAS or Exchange at ``shop.local``), so only the syntax counts here.
"""
from __future__ import annotations

import email_validator

from pipeline.schema import ROLE_MANAGER

# A well-formed stand-in for a special-use name, so that its labels are still checked.
_STAND_IN = ".example.com"


def mail_address(value: str) -> str | None:
    """The address as the mail library will use it (an ASCII domain), or None when it cannot be one."""
    found = _validate(value)
    if found is None and "@" in value and _special_use(value.rpartition("@")[2]):
        found = _validate(value + _STAND_IN)
        return None if found is None else found.ascii_email.removesuffix(_STAND_IN)
    return None if found is None else (found.ascii_email or value)


def _validate(value: str):
    try:
        return email_validator.validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except email_validator.EmailNotValidError:
        return None


def _special_use(domain: str) -> bool:
    name = domain.rstrip(".").lower()
    return any(name == d or name.endswith("." + d) for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)


def shared_address_names(names, emails, roles, active) -> set[str]:
    """Two 在职 业务员 with different names on one 邮箱: one address is surely mistyped, and
    each would get the other's customers, so neither gets an email (their customers go to
    the 主管, ``rules.rep_day.ambiguous_names``; the validator names the rows).  A rep on
    the 主管's address is left alone: the 主管 sees every customer anyway."""
    by_address: dict[str, set[str]] = {}
    for name, email, role, works in zip(names, emails, roles, active):
        address = "" if email is None else str(email).strip().lower()
        if works and address and str(role) != ROLE_MANAGER and str(name):
            by_address.setdefault(address, set()).add(str(name))
    return {name for found in by_address.values() if len(found) > 1 for name in found}
