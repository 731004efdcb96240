"""The one table of user-facing text (terminal lines, problem texts, sheet names).

Texts live in ``templates/messages/<area>.toml``, one file per area of the program,
each with a ``[zh]`` table (default) and an ``[en]`` table.  They are merged into one
table at first use; a key defined twice is a bug and raises.  Code asks for a text
by key and fills ``{placeholders}`` with keyword arguments.

Plurals (English): ``{days:# day|# days}`` reads "1 day" / "7 days", and
``{interval:day|# days}`` reads "every day" / "every 7 days" after "every"; the part
before "|" is for exactly 1, "#" stands for the number.
"""
from __future__ import annotations

import string
import tomllib
from contextlib import contextmanager
from functools import cache
from pathlib import Path


def template_dir() -> Path:
    """``templates/``: beside the package in a checkout, inside it once installed.

    The project keeps ``templates/`` at its top level; a non-editable install
    packages it as ``pipeline/templates`` (see pyproject.toml), so both are tried.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "messages").is_dir():
            return candidate
    raise FileNotFoundError(f"templates/ not found beside {here}")


TEXT_DIR = template_dir() / "messages"
LANGUAGES = ("zh", "en")
# The register's own words (spec §2: 是/否, 高/中/低, 潜在/现实/流失, 风险原因 sentences): what
# the pipeline writes into the register stays in them whatever [locale] language says,
# so the staff's filters and formulas keep working when the emails are in English.
REGISTER_LANGUAGE = "zh"
_language = ["zh"]


def set_language(language: str) -> None:
    """Choose the language of every later text (set once from config at start)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _language[0] = language


def language() -> str:
    return _language[0]


@contextmanager
def speaking(language: str):
    """Texts in ``language`` inside the block (e.g. the register's words), then as before."""
    before = _language[0]
    set_language(language)
    try:
        yield
    finally:
        _language[0] = before


def register_text(key: str, /, **values: object) -> str:
    """``text`` in the register's language: for values written into the register's columns."""
    with speaking(REGISTER_LANGUAGE):
        return text(key, **values)


@cache
def _table() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for path in sorted(TEXT_DIR.glob("*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        for lang in LANGUAGES:
            for key, value in data.get(lang, {}).items():
                if key in merged[lang]:
                    raise KeyError(f"text {key!r} defined twice ({path.name})")
                merged[lang][key] = value
    return merged


class _Plurals(string.Formatter):
    """str.format plus the ``{n:one|many}`` plural spec (see the module docstring)."""

    def format_field(self, value, format_spec: str) -> str:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return (one if value == 1 else many).replace("#", str(value))
        return super().format_field(value, format_spec)


_FORMATTER = _Plurals()


def fill(template: str, /, **values: object) -> str:
    """``template`` with its placeholders filled, plural specs included."""
    # str.format is several times faster; texts without a plural (most) take it.
    return _FORMATTER.format(template, **values) if "|" in template else template.format(**values)


def text(key: str, /, **values: object) -> str:
    """The text for ``key`` in the current language, falling back to Chinese."""
    return text_in(language(), key, **values)


def text_in(lang: str, key: str, /, **values: object) -> str:
    """The text for ``key`` in ``lang`` (for what is said before the language is set)."""
    table = _table()
    template = table[lang].get(key) or table["zh"][key]
    return fill(template, **values) if values else template


def every_language(key: str) -> tuple[str, ...]:
    """The text for ``key`` in each language (for reading what a user may type in either)."""
    table = _table()
    return tuple(dict.fromkeys(table[lang].get(key) or table["zh"][key] for lang in LANGUAGES))
