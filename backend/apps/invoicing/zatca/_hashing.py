"""The invoice hash per shared/specs/zatca.md §2 "Invoice hash" (a stand-in until inv's `apps.invoicing.hashing`).

1. Parse the exact bytes; remove `ext:UBLExtensions`, `cac:Signature` and `cac:AdditionalDocumentReference[cbc:ID='QR']`
   keeping the whitespace around them (the removed element's tail moves onto the previous sibling, or the parent's
   text) — XPath-filter semantics.
2. C14N 1.1 (lxml's `method="c14n"` gives identical bytes for these documents); the XML declaration is dropped.
3. base64 of the raw SHA-256.

Standard library + lxml only: the Fatoora fake uses it too.
"""

from __future__ import annotations

import base64
import hashlib

from lxml import etree

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
}
_EXCLUDED = "//ext:UBLExtensions | //cac:Signature | //cac:AdditionalDocumentReference[cbc:ID='QR']"

#: The PIH of an EGS's first document: base64 of the hex text of SHA-256("0").
FIRST_PIH = "NWZlY2ViNjZmZmM4NmYzOGQ5NTI3ODZjNmQ2OTZjNzljMmRiYzIzOWRkNGU5MWI0NjcyOWQ3M2EyN2ZiNTdlOQ=="


def parse(xml: bytes) -> etree._Element:
    """Parse untrusted XML safely (no entities, no network), keeping whitespace."""
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(xml, parser)


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def canonical_for_hash(xml: bytes) -> bytes:
    root = parse(xml)
    for element in list(root.xpath(_EXCLUDED, namespaces=NS)):
        _remove_keeping_tail(element)
    return bytes(etree.tostring(root, method="c14n", exclusive=False, with_comments=False))


def invoice_hash(xml: bytes) -> str:
    return base64.b64encode(hashlib.sha256(canonical_for_hash(xml)).digest()).decode()
