"""What the reader and the write-back both know about an .xlsx package's plumbing.

An .xlsx is a zip of XML parts tied together by relationships (``_rels/.rels`` names
the main part, whose own rels name each sheet's part).  The namespaces come in two
spellings, Transitional and ISO 29500 Strict, and every part is parsed without DTDs,
entity expansion or network access.  Each side raises its own error and keeps its
own way of reading the parts; this module holds only the facts they share.
"""
from __future__ import annotations

import posixpath

# (Transitional, Strict) spellings of the two namespaces the pipeline reads.
MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
           "http://purl.oclc.org/ooxml/spreadsheetml/main")
DOC_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
              "http://purl.oclc.org/ooxml/officeDocument/relationships")
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RELATIONSHIP = "{%s}Relationship" % PKG_REL_NS

# No DTDs, no entity expansion, no network: a crafted part cannot blow up or phone home.
# huge_tree lifts libxml2's depth/size limits that a 50,000-row sheet can hit; it is
# safe only together with resolve_entities=False.
SAFE_PARSING = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def rels_part(part: str) -> str:
    """The part holding ``part``'s relationships ('' = the package's own, ``_rels/.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(part: str, target: str) -> str:
    """A relationship's Target, as written in ``part``'s rels, as a part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
