"""Reading the register file: the I/O edge that turns an .xlsx into plain rows.

python-calamine reads the cached values of formulas and real Excel dates (also in
Chinese-locale date formats, which openpyxl mis-reads).  Anything that stops a run
(missing file, not an .xlsx, encrypted, corrupt) is a RegisterError with a one-line
reason for the shop.
"""
from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import python_calamine as calamine

from pipeline.messages import text

OLE_MAGIC = b"\xd0\xcf\x11\xe0"   # encrypted .xlsx (and old .xls) are OLE compound files
ZIP_MAGIC = b"PK\x03\x04"


class RegisterError(Exception):
    """The register cannot be read at all: the message is one line for the shop."""


def read_workbook(path: Path, each: Callable[[list[str]], Iterable[str]] = iter) -> dict[str, list[list]]:
    """Every worksheet's cells from A1 on, as lists of rows (empty cell = "").

    ``each`` may wrap the sheet names, e.g. in a progress bar (the runner's business).
    """
    _check_file(path)
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
                for name in each(names)}
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError) as e:
        raise RegisterError(text("register.corrupt", path=path, error=str(e).splitlines()[0][:200])) from None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise RegisterError(text("register.missing", path=path))
    if path.is_dir():
        raise RegisterError(text("register.not_xlsx", path=path))
    with path.open("rb") as f:
        head = f.read(4)
    if head == OLE_MAGIC:
        raise RegisterError(text("register.encrypted", path=path))
    if head != ZIP_MAGIC or not zipfile.is_zipfile(path):
        raise RegisterError(text("register.not_xlsx", path=path))
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    if "xl/workbook.xml" not in names:
        raise RegisterError(text("register.not_xlsx", path=path))
