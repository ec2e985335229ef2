"""XML helpers shared by the stamp and the Fatoora fake. The invoice hash itself is inv's
(`apps.invoicing.hashing.invoice_hash`, shared/specs/zatca.md §2 "Invoice hash"), re-exported here."""

from __future__ import annotations

from lxml import etree

from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.hashing import invoice_hash
from apps.invoicing.ubl import NS_CAC, NS_CBC, NS_EXT, NS_INVOICE

__all__ = ["FIRST_PIH", "NS", "invoice_hash", "parse"]

NS = {"inv": NS_INVOICE, "cac": NS_CAC, "cbc": NS_CBC, "ext": NS_EXT}


def parse(xml: bytes) -> etree._Element:
    """Parse untrusted XML safely (no entities, no network), keeping whitespace."""
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(xml, parser)
