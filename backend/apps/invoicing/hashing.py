"""The invoice hash (shared/specs/zatca.md §2 "Invoice hash"): what ZATCA recomputes, QR tag 6 and the next PIH.

1. The exact bytes to be sent, without `ext:UBLExtensions`, `cac:Signature` and the QR
   `cac:AdditionalDocumentReference`, keeping the whitespace around them (XPath-filter semantics: a removed
   element's `.tail` joins the text before it, so the newline and indentation that followed it survive).
2. C14N (lxml's `method="c14n"`, identical to C14N 1.1 here); the XML declaration is dropped.
3. SHA-256, then base64 of the 32 raw bytes.
"""

from __future__ import annotations

import base64
import hashlib

from lxml import etree

from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.ubl import NS_CAC, NS_CBC, NS_EXT

__all__ = ["FIRST_PIH", "canonical", "invoice_hash", "parse"]  # FIRST_PIH: the first document's PIH (constants.py)

_REMOVED = etree.XPath(
    "/*/ext:UBLExtensions | /*/cac:Signature | /*/cac:AdditionalDocumentReference[cbc:ID='QR']",
    namespaces={"ext": NS_EXT, "cac": NS_CAC, "cbc": NS_CBC},
)


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        raise ValueError("the document element itself cannot be removed")
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def parse(xml: bytes) -> etree._Element:
    """Parse untrusted XML safely (no entities, no network, no huge trees), keeping whitespace."""
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(xml, parser)


def canonical(xml: bytes) -> bytes:
    """The bytes that are hashed: the document without the three elements, canonicalized."""
    root = parse(xml)
    for element in _REMOVED(root):
        _remove_keeping_tail(element)
    result: bytes = etree.tostring(root, method="c14n")
    return result


def invoice_hash(xml: bytes) -> str:
    return base64.b64encode(hashlib.sha256(canonical(xml)).digest()).decode("ascii")
