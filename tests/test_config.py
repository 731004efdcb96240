"""config.toml: defaults, overrides, and one-line errors naming the key (issue #2)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Config, ConfigError, load_config

PROJECT = Path(__file__).resolve().parent.parent


def load_text(tmp_path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_shipped_config_toml_is_the_defaults():
    shipped = load_config(PROJECT / "config.toml")
    assert replace(shipped, base_dir=Path(".")) == Config()
    assert shipped.resolve("input/x.xlsx") == PROJECT / "input" / "x.xlsx"


@pytest.mark.parametrize("text, check", [
    ("[grading]\na_days = 20\n", lambda c: c.grading.a_days == 20),
    ("[cadence]\nb = 10\n", lambda c: c.cadence.interval("B") == 10),
    ("[churn]\nspend_min_amount = 500\n", lambda c: c.churn.spend_min_amount == 500.0),
    ("[care]\nfestivals = [\"中秋\", \"元旦\"]\n", lambda c: c.care.festivals == ("中秋", "元旦")),
    ("[aliases.customers]\nphone = [\"手机\"]\n", lambda c: c.aliases.customers == {"phone": ("手机",)}),
    ("[locale]\nweekend = [7]\n", lambda c: c.locale.weekend == (7,)),
    ("", lambda c: c == replace(Config(), base_dir=c.base_dir)),
])
def test_overrides(tmp_path, text, check):
    assert check(load_text(tmp_path, text))


@pytest.mark.parametrize("text, message", [
    ("[grading]\na_days = 0\n", "[grading] a_days: must be ≥ 1, got 0"),
    ("[grading]\nfoo = 1\n", "[grading] unknown key: foo"),
    ("[bogus]\nx = 1\n", "[top level] unknown key: bogus"),
    ("[mail]\nport = \"465\"\n", "[mail] port: must be a whole number, got '465'"),
    ("[mail]\nsecurity = \"tls\"\n", "[mail] security: must be \"ssl\", \"starttls\" or \"none\", got 'tls'"),
    ("[state]\nkey_account_share = 1.5\n", "[state] key_account_share: must be between 0 and 1, got 1.5"),
    ("[schedule]\ntime = \"6:30\"\n", "[schedule] time: must be a time like \"06:30\", got '6:30'"),
    ("[care]\nfestivals = [\"圣诞\"]\n", "[care] festivals: must name festivals"),
    ("[locale]\nlanguage = \"fr\"\n", "[locale] language: must be \"zh\" or \"en\", got 'fr'"),
    ("[register]\ncreate_demo_if_missing = \"yes\"\n", "[register] create_demo_if_missing: must be true or false"),
    ("grading = 3\n", "[grading] must be a table"),
    ("[grading\n", "not valid TOML"),
])
def test_bad_values_are_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        load_text(tmp_path, text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
