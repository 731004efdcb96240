"""A digitally signed register: refused by default, or written and the shop told.

A signature (Excel's 文件 > 保护工作簿 > 添加数字签名) covers the parts it lists;
rewriting the customer sheet makes it invalid, and Excel then shows the workbook as
having an invalid signature.  That is the shop's call ([register] signed): "refuse"
leaves the register untouched and says why, "write" updates it and says, every run,
that the signature no longer holds.  The signature's own parts are kept as they are.
"""
from __future__ import annotations

from pipeline.messages import text
from pipeline.writeback.package import Package, PackageError

_ORIGIN = "/digital-signature/origin"
_SIGNATURE_FOLDER = "_xmlsignatures/"


def is_signed(package: Package) -> bool:
    """The package carries an OPC digital signature (its origin or signature parts)."""
    if any(kind.endswith(_ORIGIN) for kind, _ in package.relationships("").values()):
        return True
    return any(info.filename.lower().startswith(_SIGNATURE_FOLDER) for info in package.infos)


def signature_note(package: Package, signed: str) -> str:
    """"" for an unsigned register; for a signed one, refuse or the line that says the
    signature is gone, as ``signed`` says."""
    if not is_signed(package):
        return ""
    if signed != "write":
        raise PackageError("signed")
    return text("writeback.signature_broken")
