"""Which values config.toml may hold: the impossible-value checks, per key.

pipeline/config.py reads the file and applies these; they live here so the reader
stays about reading.  Each check is (test, what the value must be), the latter a key
of the ``config.must.*`` texts (templates/messages/settings.toml).
"""
from __future__ import annotations

from pipeline import schema

# Keys whose value may be a password pasted in by mistake: never echoed in an error.
SECRET_KEYS = {"mail.password_env", "inbox.password_env"}

# Impossible values, per key: (check, what it must be: a key of the "config.must.*" texts).
_POSITIVE = (lambda v: v >= 1, "positive")
_NON_NEGATIVE = (lambda v: v >= 0, "non_negative")
_ABOVE_ZERO = (lambda v: v > 0, "above_zero")
_SHARE = (lambda v: 0 < v <= 1, "share")
_HHMM = (lambda v: len(v) == 5 and v[2] == ":" and v[:2].isdigit() and v[3:].isdigit()
         and int(v[:2]) < 24 and int(v[3:]) < 60, "hhmm")
CHECKS = {
    "register.signed": (lambda v: v in ("refuse", "write"), "signed"),
    "output.keep_backups": _NON_NEGATIVE,
    "locale.language": (lambda v: v in ("zh", "en"), "language"),
    "locale.country": (lambda v: _known_country(v), "country"),
    "locale.weekend": (lambda v: all(1 <= d <= 7 for d in v), "weekend"),
    **{f"grading.{k}": _POSITIVE for k in ("a_days", "b_days", "c_days")},
    "grading.past_due_grace_days": _NON_NEGATIVE,
    **{f"cadence.{k}": _POSITIVE for k in ("a", "b", "c", "d", "e", "lost_min_interval")},
    "state.lost_after_days": _POSITIVE,
    "state.key_account_window_days": _POSITIVE,
    "state.key_account_share": _SHARE,
    "churn.rhythm_min_orders": (lambda v: v >= 2, "at_least_2"),
    **{f"churn.{k}": _POSITIVE for k in ("spend_window_days", "value_horizon_days")},
    **{f"churn.{k}": _NON_NEGATIVE for k in ("rhythm_medium_factor", "rhythm_medium_extra_days", "rhythm_high_factor",
                                              "rhythm_high_extra_days", "spend_min_amount", "neglect_min_days",
                                              "one_time_gap_factor", "model_high_below", "model_medium_below")},
    "churn.model_horizon_gaps": _ABOVE_ZERO,
    "churn.model_gone_below": _SHARE,
    "churn.spend_drop_ratio": _SHARE,
    "churn.model_min_repeat_customers": _POSITIVE,
    "churn.unhappy_satisfaction": (lambda v: 1 <= v <= 5, "one_to_five"),
    "care.days_ahead": _NON_NEGATIVE,
    "care.festivals": (lambda v: all(_known_festival(f) for f in v), "festivals"),
    "care.grades": (lambda v: all(g in "ABCDE" and len(g) == 1 for g in v), "grades"),
    "tasks.daily_cap": _POSITIVE,
    "mail.port": (lambda v: 0 < v < 65536, "port"),
    "mail.security": (lambda v: v in ("ssl", "starttls", "none"), "security"),
    "mail.retries": _NON_NEGATIVE,
    "mail.retry_backoff_seconds": _NON_NEGATIVE,
    "mail.timeout_seconds": _ABOVE_ZERO,
    "inbox.port": (lambda v: 0 < v < 65536, "port"),
    "inbox.security": (lambda v: v in ("ssl", "starttls", "none"), "security"),
    "inbox.poll_minutes": _POSITIVE,
    "schedule.time": _HHMM,
    "schedule.lock_retry_until": _HHMM,
    "schedule.lock_retry_minutes": _POSITIVE,
    "schedule.keep_log_days": _POSITIVE,
}
# [aliases]: the keys are field ids of that sheet (pipeline/schema.py), or sheet ids under ``sheets``.
ALIAS_KEYS = {spec.key: tuple(f.name for f in spec.fields) for spec in schema.SHEETS} | {
    "sheets": tuple(spec.key for spec in schema.SHEETS)}


def _known_country(code: str) -> bool:
    import holidays
    return code in holidays.list_supported_countries()


def _known_festival(name: str) -> bool:
    from pipeline.dates.festivals import festival_date
    try:
        festival_date(name, 2026)
    except KeyError:
        return False
    return True
