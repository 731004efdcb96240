"""Finding the register's sheets inside the .xlsx package the way Excel does.

An .xlsx is a zip of XML parts tied together by relationships: ``_rels/.rels`` names
the main part (usually, not always, ``xl/workbook.xml``), whose own rels name each
sheet's part.  Both the Transitional and the Strict (ISO 29500) namespaces are
understood.  The reader then hands python-calamine a small package of its own
(``calamine_view``) holding only the sheets the run uses, at the places calamine
expects: a macro sheet, a ``<sheet r:id="">`` or a sheet calamine cannot read that
the run does not use can no longer stop the night.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from pipeline.ooxml import DOC_REL_NS, MAIN_NS, PKG_REL_NS, RELATIONSHIP, SAFE_PARSING, rels_part, resolve_target

PARSER = etree.XMLParser(**SAFE_PARSING)


class PackageProblem(Exception):
    """The package's structure is broken (the caller words it for the shop)."""


@dataclass(frozen=True)
class BookIndex:
    """What the reader needs to know about one workbook package."""

    sheets: dict[str, str | None]      # sheet name -> its worksheet's zip member (None: not a worksheet)
    date1904: bool                     # serial numbers count from 1904-01-01 (old Mac Excel)
    shared_strings: str | None
    styles: str | None


def parse(data: bytes, part: str) -> etree._Element:
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as error:
        raise PackageProblem(f"{part}: {error}") from None
    if root.getroottree().docinfo.doctype:   # no genuine OOXML part has one
        raise PackageProblem(f"{part}: DOCTYPE not allowed")
    return root


def members(book: zipfile.ZipFile) -> dict[str, str]:
    """Part name -> the zip member holding it (some Windows tools write ``xl\\workbook.xml``)."""
    return {name.replace("\\", "/"): name for name in book.namelist()}


def relationships(book: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, type's last word, resolved target part) of ``part``'s rels ('' = the package)."""
    rels = members(book).get(rels_part(part))
    if rels is None:
        return []
    data = book.read(rels)
    found = []
    for rel in parse(data, rels).iter(RELATIONSHIP):
        if rel.get("TargetMode") == "External":
            continue
        found.append((rel.get("Id", ""), rel.get("Type", "").rsplit("/", 1)[-1],
                      resolve_target(part, rel.get("Target", ""))))
    return found


def index(book: zipfile.ZipFile) -> BookIndex:
    """The workbook's sheets and settings, following the package relationships."""
    names = members(book)
    main = next((t for _, kind, t in relationships(book, "") if kind == "officeDocument" and t in names), None)
    if main is None:
        raise PackageProblem("no workbook part")
    root = parse(book.read(names[main]), main)
    ns = next((n for n in MAIN_NS if root.tag == f"{{{n}}}workbook"), None)
    if ns is None:
        raise PackageProblem(f"{main}: not a workbook")
    rels = relationships(book, main)
    worksheets = {rid: names[target] for rid, kind, target in rels if kind == "worksheet" and target in names}
    sheets: dict[str, str | None] = {}
    for sheet in root.iter(f"{{{ns}}}sheet"):
        rid = next((sheet.get(f"{{{r}}}id") for r in DOC_REL_NS if sheet.get(f"{{{r}}}id") is not None), "")
        sheets.setdefault(sheet.get("name", ""), worksheets.get(rid))
    props = root.find(f"{{{ns}}}workbookPr")
    date1904 = props is not None and props.get("date1904", "0").lower() in ("1", "true")

    def first(kind: str) -> str | None:
        return next((names[t] for _, k, t in rels if k == kind and t in names), None)
    return BookIndex(sheets, date1904, first("sharedStrings"), first("styles"))


CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Default Extension="xml" ContentType="application/xml"/></Types>')
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def calamine_view(book: zipfile.ZipFile, found: BookIndex, parts: dict[str, str],
                  replaced: dict[str, bytes]) -> bytes:
    """A package holding only ``parts`` (sheet name -> part) plus the strings and styles,
    at the standard names, in the Transitional namespaces.  Parts are copied as they are,
    except the sheets in ``replaced`` (sheet name -> new XML)."""
    out = io.BytesIO()
    rels = [f'<Relationship Id="rId{i}" Type="{REL_TYPE}worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(parts) + 1)]
    sheets = [f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
              for i, name in enumerate(parts, start=1)]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as view:
        view.writestr("[Content_Types].xml", CONTENT_TYPES)
        view.writestr("_rels/.rels", _rels([f'<Relationship Id="rId1" Type="{REL_TYPE}officeDocument" '
                                            'Target="xl/workbook.xml"/>']))
        for kind, part in (("sharedStrings", found.shared_strings), ("styles", found.styles)):
            if part:
                rels.append(f'<Relationship Id="{kind}" Type="{REL_TYPE}{kind}" Target="{kind}.xml"/>')
                _copy(book, part, view, f"xl/{kind}.xml")
        view.writestr("xl/_rels/workbook.xml.rels", _rels(rels))
        view.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN_NS[0]}" '
            f'xmlns:r="{DOC_REL_NS[0]}"><workbookPr date1904="{int(found.date1904)}"/>'
            f'<sheets>{"".join(sheets)}</sheets></workbook>').encode())
        for i, (name, part) in enumerate(parts.items(), start=1):
            if name in replaced:
                view.writestr(f"xl/worksheets/sheet{i}.xml", replaced[name])
            else:
                _copy(book, part, view, f"xl/worksheets/sheet{i}.xml")
    return out.getvalue()


def _rels(items: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
            f'"{PKG_REL_NS}">{"".join(items)}'
            '</Relationships>').encode()


def _copy(book: zipfile.ZipFile, part: str, view: zipfile.ZipFile, name: str) -> None:
    # Decompressed once here and stored uncompressed: calamine then reads it without inflating.
    view.writestr(name, book.read(part))
