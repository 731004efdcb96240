"""The message table: every text exists in both languages with the same placeholders."""
from __future__ import annotations

import string
import tomllib

import pytest

from pipeline import messages


def tables():
    for path in sorted(messages.TEXT_DIR.glob("*.toml")):
        with path.open("rb") as f:
            yield path.name, tomllib.load(f)


# Lunar dates read as words in Chinese (八月十五) and as numbers in English (08-15).
NUMBERS_IN_ENGLISH = {"care.birthday.lunar", "care.birthday.lunar_with_year"}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("name, table", list(tables()))
def test_every_text_has_an_english_twin_with_the_same_placeholders(name, table):
    zh, en = table.get("zh", {}), table.get("en", {})
    assert set(zh) == set(en), f"{name}: {sorted(set(zh) ^ set(en))}"
    for key in set(zh) - NUMBERS_IN_ENGLISH:
        assert placeholders(zh[key]) == placeholders(en[key]), f"{name}: {key}"


def test_language_switch_and_fallback():
    try:
        messages.set_language("en")
        assert messages.text("summary.failed", step="x", error="y") == "Run failed (x): y"
        messages.set_language("zh")
        assert messages.text("summary.failed", step="x", error="y") == "运行失败（x）：y"
    finally:
        messages.set_language("zh")
    with pytest.raises(ValueError):
        messages.set_language("fr")
