"""The one table of user-facing text (terminal lines, problem texts, sheet names).

Texts live in ``templates/messages/<area>.toml``, one file per area of the program,
each with a ``[zh]`` table (default) and an ``[en]`` table.  They are merged into one
table at first use; a key defined twice is a bug and raises.  Code asks for a text
by key and fills ``{placeholders}`` with keyword arguments.
"""
from __future__ import annotations

import tomllib
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
_language = ["zh"]


def set_language(language: str) -> None:
    """Choose the language of every later text (set once from config at start)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _language[0] = language


def language() -> str:
    return _language[0]


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


def text(key: str, /, **values: object) -> str:
    """The text for ``key`` in the current language, falling back to Chinese."""
    table = _table()
    template = table[language()].get(key) or table["zh"][key]
    return template.format(**values) if values else template


def every_language(key: str) -> tuple[str, ...]:
    """The text for ``key`` in each language (for reading what a user may type in either)."""
    table = _table()
    return tuple(dict.fromkeys(table[lang].get(key) or table["zh"][key] for lang in LANGUAGES))
