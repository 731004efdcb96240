"""Reading the register file: the I/O edge that turns an .xlsx into plain rows.

python-calamine reads the cached values of formulas and real Excel dates (also in
Chinese-locale date formats, which openpyxl mis-reads).  Only the sheets the run uses
are read (``wanted``), found through the package relationships (``read.package``).
calamine sizes a sheet by its farthest cell, so a stray value in XFD1048576 would make
it allocate hundreds of GB: each sheet's extent is measured first (``read.extent``),
and a sheet whose far cells are mostly empty space is compacted to the rows and
columns that hold values before calamine sees it.  Anything that stops a run
(missing file, not an .xlsx, encrypted, corrupt) is a RegisterError with a one-line
reason for the shop.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import olefile
import python_calamine as calamine

from pipeline.messages import text
from pipeline.read import compact, extent, overflow, package

OLE_MAGIC = b"\xd0\xcf\x11\xe0"   # encrypted .xlsx and old .xls are both OLE compound files
ZIP_MAGIC = b"PK\x03\x04"
CALAMINE_ERRORS = (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError)


class RegisterError(Exception):
    """The register cannot be read at all: the message is one line for the shop."""


@dataclass
class Sheet:
    """One sheet's cells from A1 on, as rows (empty cell = "")."""

    rows: list[list]
    numbers: list[int] | None = None   # each row's Excel row number; None: 1, 2, 3…

    def row_numbers(self) -> list[int]:
        return self.numbers if self.numbers is not None else list(range(1, len(self.rows) + 1))


@dataclass
class Workbook:
    sheets: dict[str, Sheet] = field(default_factory=dict)
    date1904: bool = False             # plain serial numbers count from 1904-01-01
    names: list[str] = field(default_factory=list)   # every sheet in the workbook, read or not


def read_workbook(path: Path, wanted: Callable[[list[str]], list[str]] | None = None,
                  each: Callable[[list[str]], Iterable[str]] = iter) -> Workbook:
    """The sheets ``wanted`` picks from the workbook's sheet names (default: every worksheet).

    ``each`` may wrap the sheet names, e.g. in a progress bar (the runner's business).
    """
    _check_file(path)
    try:
        with zipfile.ZipFile(path) as book:
            found = package.index(book)
            readable = [name for name, part in found.sheets.items() if part]
            names = [n for n in (wanted(list(found.sheets)) if wanted else readable) if found.sheets.get(n)]
            return Workbook(_read_sheets(path, book, found, names, each), found.date1904, list(found.sheets))
    except package.PackageProblem as e:
        raise RegisterError(text("register.corrupt", path=path, error=str(e).splitlines()[0][:200])) from None
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as e:
        raise RegisterError(text("register.corrupt", path=path, error=str(e).splitlines()[0][:200])) from None


def _read_sheets(path: Path, book: zipfile.ZipFile, found: package.BookIndex, names: list[str],
                 each) -> dict[str, Sheet]:
    parts = {name: found.sheets[name] for name in names}
    sheets: dict[str, Sheet] = {}
    # Each sheet is measured in a thread while calamine (which releases the GIL) reads the one before.
    with ThreadPoolExecutor(1) as pool:
        extents = {name: pool.submit(extent.measure, book, part) for name, part in parts.items()}
        whole = None
        for name in each(names):
            if extents[name].result().fits():
                whole = whole or _open_whole(path, book, found, parts)
                sheets[name] = Sheet(_rows(path, whole, name))
            else:   # mostly empty space (or a value calamine cannot take): only the rows
                    # and columns that hold values, such values undated
                xml, numbers = compact.compact(book, parts[name])
                xml = overflow.undated(xml)
                view = package.calamine_view(book, found, {name: parts[name]}, {name: xml})
                rows = _rows(path, _open(path, io.BytesIO(view)), name)
                sheets[name] = Sheet(rows, numbers[:len(rows)])
    return sheets


def _open(path: Path, source) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_object(source)
    except CALAMINE_ERRORS as e:
        raise RegisterError(text("register.corrupt", path=path, error=str(e).splitlines()[0][:200])) from None


def _rows(path: Path, workbook: calamine.CalamineWorkbook, name: str) -> list[list]:
    try:
        return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except CALAMINE_ERRORS as e:
        raise RegisterError(text("register.corrupt", path=path, error=str(e).splitlines()[0][:200])) from None


def _open_whole(path: Path, book: zipfile.ZipFile, found: package.BookIndex, parts: dict[str, str]):
    """calamine over the file itself when it can open it; else over a package holding only
    the used sheets (a macro sheet, a ``<sheet r:id="">``, a main part elsewhere…)."""
    main = next((t for _, kind, t in package.relationships(book, "") if kind == "officeDocument"), "")
    if main == "xl/workbook.xml":
        try:
            return calamine.CalamineWorkbook.from_path(str(path))
        except CALAMINE_ERRORS:
            pass   # a part the run does not use may be what calamine cannot read
    return _open(path, io.BytesIO(package.calamine_view(book, found, parts, {})))


def _check_file(path: Path) -> None:
    if not path.exists():
        raise RegisterError(text("register.missing", path=path))
    if path.is_dir():
        raise RegisterError(text("register.not_xlsx", path=path))
    with path.open("rb") as f:
        head = f.read(4)
    if head == OLE_MAGIC:
        raise RegisterError(text(_ole_kind(path), path=path))
    if head != ZIP_MAGIC or not zipfile.is_zipfile(path):
        raise RegisterError(text("register.not_xlsx", path=path))


def _ole_kind(path: Path) -> str:
    """An OLE file is a password-protected .xlsx (EncryptionInfo + EncryptedPackage
    streams) or an old-format .xls (a Workbook / Book stream); anything else is damaged."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
    except (OSError, ValueError):   # olefile's "not an OLE2 file" is an OSError
        return "register.not_xlsx"
    if {"EncryptionInfo", "EncryptedPackage"} <= streams:
        return "register.encrypted"
    if streams & {"Workbook", "Book"}:
        return "register.old_xls"
    return "register.not_xlsx"
