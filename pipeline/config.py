"""config.toml, read once into frozen dataclasses.

Every key has a default here, so an empty config.toml is a working config.  An
unknown key, a value of the wrong type or an impossible value raises ConfigError
with a one-line message naming the key (``[grading] a_days: must be ≥ 1, got 0``).
Relative paths are resolved against the config file's folder.
"""
from __future__ import annotations

import difflib
import tomllib
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path

from pipeline import messages
from pipeline.addresses import mail_address
from pipeline.config_checks import ALIAS_KEYS, CHECKS, SECRET_KEYS


class ConfigError(Exception):
    """A bad config.toml: the message is one line naming the key."""


@dataclass(frozen=True)
class RegisterConfig:
    path: str = "input/客户台账.xlsx"
    # A fresh clone has no register: generate the demo shop there.  A real shop sets false.
    create_demo_if_missing: bool = True
    # A digitally signed register: "refuse" to write (the default) or "write" and say the
    # signature is gone (pipeline.writeback.signature).
    signed: str = "refuse"


@dataclass(frozen=True)
class OutputConfig:
    dir: str = "output"
    keep_backups: int = 30


@dataclass(frozen=True)
class LocaleConfig:
    language: str = "zh"
    country: str = "CN"
    weekend: tuple[int, ...] = (6, 7)


@dataclass(frozen=True)
class AliasConfig:
    """Extra header spellings per sheet: field id -> list of headers."""
    customers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    followups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    orders: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sheets: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class GradingConfig:
    a_days: int = 30
    b_days: int = 90
    c_days: int = 180
    past_due_grace_days: int = 30


@dataclass(frozen=True)
class CadenceConfig:
    a: int = 1
    b: int = 7
    c: int = 15
    d: int = 30
    e: int = 365
    lost_min_interval: int = 30

    def interval(self, grade: str) -> int:
        return getattr(self, grade.lower())


@dataclass(frozen=True)
class StateConfig:
    lost_after_days: int = 365
    key_account_window_days: int = 365
    key_account_share: float = 0.8


@dataclass(frozen=True)
class ChurnConfig:
    rhythm_min_orders: int = 3
    rhythm_medium_factor: float = 2.0
    rhythm_medium_extra_days: int = 14
    rhythm_high_factor: float = 3.0
    rhythm_high_extra_days: int = 28
    spend_window_days: int = 90
    spend_drop_ratio: float = 0.5
    spend_min_amount: float = 1000.0
    neglect_min_days: int = 7
    unhappy_satisfaction: int = 2
    one_time_gap_factor: float = 3.0
    model_min_repeat_customers: int = 200
    model_horizon_gaps: float = 3.0
    model_high_below: float = 0.12
    model_gone_below: float = 0.15
    model_medium_below: float = 0.32
    model_alive_threshold: float = 0.3   # unused since issue #12; accepted so older config files still load
    value_horizon_days: int = 365


@dataclass(frozen=True)
class CareConfig:
    days_ahead: int = 3
    festivals: tuple[str, ...] = ("春节", "元宵", "端午", "中秋", "国庆")
    grades: tuple[str, ...] = ("A", "B", "C")


@dataclass(frozen=True)
class TasksConfig:
    daily_cap: int = 25


@dataclass(frozen=True)
class MailConfig:
    host: str = ""
    port: int = 465
    security: str = "ssl"
    user: str = ""
    password_env: str = "SHOP_MAIL_PASSWORD"
    keyring_service: str = ""
    from_address: str = ""
    from_name: str = "客户跟进助手"
    send_on_days_off: bool = False
    retries: int = 3
    retry_backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class InboxConfig:
    """The follow-up mailbox reps reply to (issue 13); an empty host means no inbox."""
    address: str = ""
    host: str = ""
    port: int = 993
    security: str = "ssl"
    user: str = ""
    password_env: str = "SHOP_INBOX_PASSWORD"
    folder: str = "INBOX"
    done_folder: str = "已录入"
    unreadable_folder: str = "未处理"
    poll_minutes: int = 15


@dataclass(frozen=True)
class ScheduleConfig:
    time: str = "06:30"
    lock_retry_minutes: int = 15
    lock_retry_until: str = "08:30"
    keep_log_days: int = 30


@dataclass(frozen=True)
class Config:
    register: RegisterConfig = RegisterConfig()
    output: OutputConfig = OutputConfig()
    locale: LocaleConfig = LocaleConfig()
    aliases: AliasConfig = AliasConfig()
    grading: GradingConfig = GradingConfig()
    cadence: CadenceConfig = CadenceConfig()
    state: StateConfig = StateConfig()
    churn: ChurnConfig = ChurnConfig()
    care: CareConfig = CareConfig()
    tasks: TasksConfig = TasksConfig()
    mail: MailConfig = MailConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    inbox: InboxConfig = InboxConfig()
    base_dir: Path = Path(".")   # the config file's folder; not a TOML key

    def resolve(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.base_dir / p


def load_config(path: Path | None) -> Config:
    """Read ``path`` (None = all defaults) into a Config, or raise ConfigError.

    Errors are in the shop's language: the file's own [locale] language when it is
    readable and valid, else Chinese."""
    if path is None:
        return Config()
    path = Path(path)
    say = _Say("zh")
    try:
        # utf-8-sig: Notepad on Windows saves UTF-8 with a byte-order mark in front.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(say("config.not_found", path=path)) from None
    except IsADirectoryError:
        raise ConfigError(say("config.not_found", path=path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(say("config.bad_toml", path=path, error=str(e).splitlines()[0])) from None
    locale = data.get("locale")
    if isinstance(locale, dict) and locale.get("language") in ("zh", "en"):
        say = _Say(locale["language"])
    config = _build(Config, data, "", say)
    return replace(config, base_dir=path.resolve().parent)


class _Say:
    """The config's error texts in one language (the global language is not set yet)."""

    def __init__(self, language: str):
        self.language = language

    def __call__(self, text_key: str, /, **values) -> str:
        return messages.text_in(self.language, text_key, **values)


def _build(cls, data: dict, prefix: str, say: _Say):
    known = {f.name: f for f in fields(cls) if f.name != "base_dir"}
    values = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(_unknown(say, prefix.rstrip("."), key, list(known)))
        hint = typing.get_type_hints(cls)[key]
        values[key] = _convert(hint, value, name, say)
        check = CHECKS.get(name)
        if check and not check[0](values[key]):
            raise ConfigError(say("config.bad_value", where=_where(name), must=say(f"config.must.{check[1]}"),
                                  value=repr(value)))
    built = cls(**values)
    if cls is MailConfig:
        _check_sender(built, say)
    return built


def _check_sender(mail: MailConfig, say: _Say) -> None:
    """Every email's From is from_address, else user: one the mail library refuses fails every email
    of every night (issue 11), so it is a config error now, not a failure per email."""
    if mail.from_address and not mail_address(mail.from_address):
        raise ConfigError(say("config.bad_value", where="[mail] from_address", must=say("config.must.address"),
                              value=repr(mail.from_address)))
    if not mail.from_address and mail.user and not mail_address(mail.user):
        raise ConfigError(say("config.sender_missing", user=repr(mail.user)))


def _unknown(say: _Say, section: str, key: str, known: list[str]) -> str:
    """One line naming the unknown key, with the nearest known one when it looks misspelt."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = say("config.did_you_mean", key=close[0]) if close else ""
    return say("config.unknown_key", section=section or say("config.top_level"), key=key, hint=hint)


def _where(name: str) -> str:
    section, _, key = name.rpartition(".")
    return f"[{section}] {key}" if section else key


def _convert(hint, value, name: str, say: _Say):
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(say("config.not_a_table", where=f"[{name}]"))
        return _build(hint, value, f"{name}.", say)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(say("config.not_a_table", where=_where(name)))
        allowed = ALIAS_KEYS.get(name.removeprefix("aliases.")) if name.startswith("aliases.") else None
        for key in value:
            if allowed is not None and key not in allowed:
                raise ConfigError(_unknown(say, name, key, list(allowed)))
        return {k: _convert(typing.get_args(hint)[1], v, f"{name}.{k}", say) for k, v in value.items()}
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ConfigError(say("config.bad_value", where=_where(name), must=say("config.must.list"),
                                  value=repr(value)))
        return tuple(_convert(typing.get_args(hint)[0], v, name, say) for v in items)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool, float) and (type(value) is not hint):
        raise ConfigError(say("config.bad_value", where=_where(name), must=say(f"config.must.{hint.__name__}"),
                              value=say("config.value_hidden") if name in SECRET_KEYS else repr(value)))
    return value
