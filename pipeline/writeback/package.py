"""Read and re-pack an .xlsx package part by part, touching only the parts we rewrite.

An .xlsx is a zip of XML parts.  Re-saving it with a spreadsheet library drops what
that library does not model (x14 dropdowns, drawings, sparklines, slicers...), so the
register writeback works on the package itself: it copies every part's stored
(compressed) bytes and zip metadata as they are, in their order, and deflates only
the parts it rewrote, with the metadata of the part they replace.  The output is
therefore a pure function of the input and the new parts (byte-identical reruns).
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

from pipeline.ooxml import DOC_REL_NS, MAIN_NS, PKG_REL_NS, RELATIONSHIP, SAFE_PARSING, rels_part, resolve_target

# The write-back works in the Transitional spelling (a Strict part is translated, below).
NS_MAIN, NS_DOC_REL, NS_PKG_REL = MAIN_NS[0], DOC_REL_NS[0], PKG_REL_NS
M = "{%s}" % NS_MAIN
# ISO 29500 Strict spells the two namespaces the write-back works in otherwise.  A Strict
# part is read in the Transitional spelling and written back in its own (Package.read,
# write_package): the same bytes either way, since a part holding both is refused.
_STRICT = {MAIN_NS[1].encode(): NS_MAIN.encode(), DOC_REL_NS[1].encode(): NS_DOC_REL.encode()}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_END_RECORD = struct.Struct("<4s4H2LH")
_DATA_DESCRIPTOR_FLAG = 0x08
_UTF8_NAME_FLAG = 0x800


class PackageError(Exception):
    """The file is not an .xlsx package this module can update; ``code`` says why."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


_PARSER = etree.XMLParser(**SAFE_PARSING)


def refuse_doctype(element: etree._Element, part: str) -> None:
    """No genuine OOXML part has a DOCTYPE; one that does is refused, not read."""
    if element.getroottree().docinfo.doctype:
        raise PackageError("bad_xml", f"{part}: DOCTYPE not allowed")


def parse_xml(data: bytes, part: str) -> etree._Element:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise PackageError("bad_xml", f"{part}: {error}") from None
    refuse_doctype(root, part)
    return root


def serialize_xml(root: etree._Element) -> bytes:
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8")


class Package:
    """An opened .xlsx held in memory: its members in stored order, readable by name."""

    def __init__(self, data: bytes):
        self.data = data
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            self.infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise PackageError("not_xlsx", str(error)) from None
        self._by_name = {info.filename: info for info in self.infos}
        self._strict: set[str] = set()      # parts read in the Strict spelling
        self._mixed: set[str] = set()       # parts in both spellings: not to be rewritten
        if "[Content_Types].xml" not in self._by_name:
            raise PackageError("not_xlsx", "no [Content_Types].xml")

    def has(self, name: str) -> bool:
        return name in self._by_name

    def read(self, name: str) -> bytes:
        info = self._by_name.get(name)
        if info is None:
            raise PackageError("bad_package", f"missing part {name}")
        try:
            data = self._zip.read(info)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as error:
            raise PackageError("bad_package", f"{name}: {error}") from None
        if any(strict in data for strict in _STRICT):
            if any(transitional in data for transitional in _STRICT.values()):
                self._mixed.add(name)
            else:
                self._strict.add(name)
                for strict, transitional in _STRICT.items():
                    data = data.replace(strict, transitional)
        return data

    def refuse_mixed(self, names) -> None:
        """Refuse (before any work) to rewrite a part that mixes Strict and Transitional."""
        for name in names:
            if name and self.has(name):
                self.read(name)
                if name in self._mixed:
                    raise PackageError("mixed_namespaces", name)

    def as_stored(self, name: str, content: bytes) -> bytes:
        """A rewritten part in the spelling its original was stored in (Strict or not)."""
        if name in self._mixed:
            raise PackageError("mixed_namespaces", name)
        if name in self._strict:
            for strict, transitional in _STRICT.items():
                content = content.replace(transitional, strict)
        return content

    def xml(self, name: str) -> etree._Element:
        return parse_xml(self.read(name), name)

    def stored_bytes(self, info: zipfile.ZipInfo) -> bytes:
        """The member's data exactly as stored in the zip (still compressed)."""
        header = self.data[info.header_offset:info.header_offset + _LOCAL_HEADER.size]
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != b"PK\x03\x04":
            raise PackageError("bad_package", f"{info.filename}: bad local header")
        start = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
        return self.data[start:start + info.compress_size]

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, resolved target part) for ``part`` ('' = the package)."""
        rels_name = rels_part(part)
        if not self.has(rels_name):
            return {}
        result = {}
        for rel in self.xml(rels_name).iter(RELATIONSHIP):
            if rel.get("TargetMode") == "External":
                continue
            result[rel.get("Id", "")] = (rel.get("Type", ""), resolve_target(part, rel.get("Target", "")))
        return result


@dataclass(frozen=True)
class WorkbookParts:
    """Where the parts the writeback needs live in this particular package."""

    sheet: str
    styles: str | None
    shared_strings: str | None
    tables: tuple[str, ...]
    date1904: bool


def locate(package: Package, sheet_name: str) -> WorkbookParts:
    """Resolve the named sheet's part (any sheetN.xml) and its neighbours via the rels."""
    workbook = next((target for kind, target in package.relationships("").values()
                     if kind.endswith("/officeDocument")), "xl/workbook.xml")
    root = package.xml(workbook)
    book_rels = package.relationships(workbook)
    sheet_part = None
    for sheet in root.iter(M + "sheet"):
        if sheet.get("name") == sheet_name:
            kind_target = book_rels.get(sheet.get("{%s}id" % NS_DOC_REL, ""))
            sheet_part = kind_target[1] if kind_target else None
    if sheet_part is None or not package.has(sheet_part):
        raise PackageError("sheet_missing", sheet_name)

    def first_of(suffix: str) -> str | None:
        return next((t for k, t in book_rels.values() if k.endswith(suffix) and package.has(t)),
                    None)

    tables = tuple(t for k, t in package.relationships(sheet_part).values()
                   if k.endswith("/table") and package.has(t))
    props = root.find(M + "workbookPr")
    date1904 = props is not None and props.get("date1904", "0") in ("1", "true")
    return WorkbookParts(sheet_part, first_of("/styles"),
                         first_of("/sharedStrings"), tables, date1904)


def shared_strings(package: Package, part: str | None, wanted: set[int]) -> dict[int, str]:
    """The texts of the wanted shared-string indexes, reading no further than needed."""
    if not part or not wanted:
        return {}
    found: dict[int, str] = {}
    last = max(wanted)
    context = etree.iterparse(io.BytesIO(package.read(part)), events=("end",), tag=M + "si", **SAFE_PARSING)
    try:
        for index, (_, item) in enumerate(context):
            if index == 0:
                refuse_doctype(item, part)
            if index in wanted:
                found[index] = rich_text(item)
            item.clear()
            if index >= last:
                break
    except etree.XMLSyntaxError as error:
        raise PackageError("bad_xml", f"{part}: {error}") from None
    return found


def rich_text(item: etree._Element) -> str:
    """The visible text of an <si> or <is>: its runs' <t>, without phonetic hints."""
    return "".join(t.text or "" for t in item.iter(M + "t")
                   if t.getparent().tag != M + "rPh")


_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def split_ref(ref: str) -> tuple[int, int]:
    """'AB12' -> (column 28, row 12)."""
    match = _REF.match(ref)
    if not match:
        raise PackageError("bad_xml", f"bad cell reference {ref!r}")
    return column_number(match.group(1)), int(match.group(2))


def _new_infos(package: Package, added: dict[str, bytes]) -> list[zipfile.ZipInfo]:
    model = package.infos[-1]
    infos = []
    for name in added:
        info = zipfile.ZipInfo(name, date_time=model.date_time)
        info.create_version, info.create_system = model.create_version, model.create_system
        info.extract_version, info.flag_bits = 20, 0
        info.internal_attr, info.external_attr = 0, model.external_attr
        infos.append(info)
    return infos


def write_package(package: Package, replaced: dict[str, bytes],
                  added: dict[str, bytes] | None = None) -> bytes:
    """The package with the given parts' contents replaced, everything else as stored;
    ``added`` parts (a new sheet) go after the others, with the newest part's metadata."""
    out = io.BytesIO()
    central = []
    for info in [*package.infos, *_new_infos(package, added or {})]:
        offset = out.tell()
        flags = info.flag_bits & ~_DATA_DESCRIPTOR_FLAG
        if not info.filename.isascii():
            flags |= _UTF8_NAME_FLAG
        name = info.filename.encode("utf-8")
        if info.filename in replaced or info.filename in (added or {}):
            content = (package.as_stored(info.filename, replaced[info.filename]) if info.filename in replaced
                       else (added or {})[info.filename])
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            stored = compressor.compress(content) + compressor.flush()
            method, crc, size = zipfile.ZIP_DEFLATED, zlib.crc32(content), len(content)
        else:
            stored = package.stored_bytes(info)
            method, crc, size = info.compress_type, info.CRC, info.file_size
        dos_time = (info.date_time[3] << 11) | (info.date_time[4] << 5) | (info.date_time[5] // 2)
        dos_date = ((info.date_time[0] - 1980) << 9) | (info.date_time[1] << 5) | info.date_time[2]
        if max(offset, len(stored), size) > 0xFFFFFFFE:
            raise PackageError("too_large", info.filename)
        version = max(info.extract_version, 20)
        out.write(_LOCAL_HEADER.pack(b"PK\x03\x04", version, 0, flags, method, dos_time,
                                     dos_date, crc, len(stored), size, len(name), 0))
        out.write(name)
        out.write(stored)
        central.append(_CENTRAL_HEADER.pack(
            b"PK\x01\x02", info.create_version, info.create_system, version, 0, flags, method,
            dos_time, dos_date, crc, len(stored), size, len(name), 0, 0, 0,
            info.internal_attr, info.external_attr, offset) + name)
    start = out.tell()
    for entry in central:
        out.write(entry)
    if len(central) > 0xFFFE or out.tell() > 0xFFFFFFFE:
        raise PackageError("too_large", "package")
    out.write(_END_RECORD.pack(b"PK\x05\x06", 0, 0, len(central), len(central),
                               out.tell() - start, start, 0))
    return out.getvalue()

