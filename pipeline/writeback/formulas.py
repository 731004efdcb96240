"""Formulas as Excel evaluates them: shared formulas resolved, and carried over when
their master cell lies in a computed column.

Excel stores a formula filled across or down once: the first cell (the master,
``<f t="shared" ref="J2:M9" si="0">LEN(B2)</f>``) holds the text, every other cell of
the fill only ``<f t="shared" si="0"/>`` and means "the master's formula, shifted by
my distance from it".  When the master sits in a column the pipeline overwrites (a
formula filled from 等级 into a staff column), overwriting it would leave the staff
cells pointing at nothing.  So the whole group becomes ordinary formulas, each with the
text Excel would evaluate there: what the staff see and what Excel computes do not
change, only how it is stored.  The check after writing (writeback.verify) compares
formulas in that resolved form, so a child left without its master can never pass.

An array formula (or data table) whose range covers both a computed column and a
staff column cannot be split: the write-back refuses it with the range.
"""
from __future__ import annotations

import re

from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator, TranslatorError

from pipeline.writeback.package import M, PackageError, column_number, split_ref
from pipeline.writeback.stream import column_of

_C, _F = M + "c", M + "f"
_SPANNING = ("array", "dataTable")
_GROUP_ATTRIBUTES = ("t", "ref", "si")


class SharedFormulas:
    """The masters of the shared formulas seen so far in one pass over a sheet."""

    def __init__(self):
        self._masters: dict[str, tuple[str, str]] = {}     # si -> (master cell, its text)

    def observe(self, row: etree._Element) -> bool:
        """Note the masters in ``row`` (all of its cells); True when it holds any shared cell."""
        found = False
        for formula in _shared(row):
            found = True
            if formula.get("ref") is not None and formula.get("si") is not None:
                self._masters[formula.get("si")] = (formula.getparent().get("r"),
                                                     formula.text or "")
        return found

    def master_of(self, formula: etree._Element) -> tuple[str, str] | None:
        return self._masters.get(formula.get("si", ""))

    def text_at(self, formula: etree._Element) -> str | None:
        """The formula Excel evaluates in this shared cell; None when its master is unknown
        or the shift leaves the sheet (Excel shows #REF! there)."""
        master = self.master_of(formula)
        if master is None:
            return None
        origin, text = master
        here = formula.getparent().get("r")
        if here == origin:
            return text
        try:
            shifted = Translator("=" + text, origin=origin).translate_formula(here)
        except (TranslatorError, ValueError, IndexError):
            return None
        return shifted[1:] if _inside_the_sheet(shifted) else None


_LAST_COLUMN, _LAST_ROW = 16384, 1048576
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})?\$?(\d+)?$")


def _inside_the_sheet(formula: str) -> bool:
    """No reference of the shifted formula runs off the sheet (Excel shows #REF! there,
    the translator would write XFE1)."""
    try:
        tokens = Tokenizer(formula).items
    except Exception:       # the tokenizer's errors are plain exceptions
        return False
    for token in tokens:
        if token.type != Token.OPERAND or token.subtype != Token.RANGE:
            continue
        parts = token.value.rpartition("!")[2].split(":")
        for part in parts:
            match = _CELL.match(part)
            if not match or not any(match.groups()):
                continue            # a table reference...
            letters, digits = match.groups()
            if not (letters and digits) and len(parts) != 2:
                continue            # a defined name (only A:A or 2:2 are whole columns/rows)
            if letters and column_number(letters) > _LAST_COLUMN:
                return False
            if digits and not 1 <= int(digits) <= _LAST_ROW:
                return False
    return True


def _shared(row: etree._Element) -> list:
    """The row's shared-formula cells' <f>s (tag-filtered iteration: this runs on every row)."""
    return [f for f in row.iter(_F) if f.get("t") == "shared"]


def resolve_shared(row: etree._Element, formulas: SharedFormulas) -> list:
    """Rewrite every shared formula of ``row`` as the plain formula Excel evaluates there
    (for comparing rows; see the module docstring); returns what ``undo`` needs to put
    them back.  A child whose master is unknown is left as it is, so it differs from
    anything resolved; one whose shift cannot be worked out is marked with its master."""
    changed = []
    for formula in _shared(row):
        changed.append((formula, list(formula.attrib.items()), formula.text))
        text = formulas.text_at(formula)
        if text is not None:
            _make_plain(formula, text)
        elif (master := formulas.master_of(formula)) is not None:
            formula.set("from", f"{master[0]}:{master[1]}")
    return changed


def undo(changed: list) -> None:
    """Put back what ``resolve_shared`` rewrote, attributes in their order."""
    for formula, attributes, text in changed:
        formula.attrib.clear()
        for name, value in attributes:
            formula.set(name, value)
        formula.text = text


def _make_plain(formula: etree._Element, text: str) -> None:
    for name in _GROUP_ATTRIBUTES:
        formula.attrib.pop(name, None)
    formula.text = text


class FormulaCarrier:
    """In the write pass: turns the shared formulas whose master lies in a computed column
    into plain formulas, and refuses array formulas that straddle a computed column."""

    def __init__(self, owned: set[int]):
        self.owned = owned
        self.formulas = SharedFormulas()
        self._orphaned: set[str] = set()        # si of groups whose master is ours
        # Kept, not raised: a pass that only measures where new columns go may be
        # followed by the real one, with other columns (writeback.sheet).
        self.refusal: PackageError | None = None

    def carry(self, row: etree._Element) -> None:
        """Run on each original row before its computed cells are written."""
        typed = [f for f in row.iter(_F) if f.get("t") is not None]
        if not typed:
            return
        if self.refusal is None:
            self.refusal = self._straddling(typed)
        if not self.formulas.observe(row):
            return
        shared = [f for f in typed if f.get("t") == "shared"]
        for formula in shared:
            if formula.get("ref") is not None and column_of(formula.getparent()) in self.owned:
                self._orphaned.add(formula.get("si", ""))
        if not self._orphaned:
            return
        for formula in shared:
            if formula.get("si", "") not in self._orphaned:
                continue
            text = self.formulas.text_at(formula)
            if text is not None:
                _make_plain(formula, text)
            elif self.refusal is None:
                self.refusal = PackageError("shared_formula", formula.getparent().get("r"))

    def _straddling(self, typed: list) -> PackageError | None:
        for formula in typed:
            if formula.get("t") not in _SPANNING:
                continue
            ref = formula.get("ref") or formula.getparent().get("r")
            first, _, last = ref.partition(":")
            low, high = split_ref(first)[0], split_ref(last or first)[0]
            columns = set(range(low, high + 1))
            if columns & self.owned and columns - self.owned:
                return PackageError("array_formula", ref)
        return None
