"""XML helpers shared by the stamp and the Fatoora fake. The invoice hash and the safe parser are
`apps.invoicing.hashing`'s (shared/specs/zatca.md §2 "Invoice hash"), re-exported here."""

from __future__ import annotations

from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.hashing import invoice_hash, parse
from apps.invoicing.ubl import NS_CAC, NS_CBC, NS_EXT, NS_INVOICE

__all__ = ["FIRST_PIH", "NS", "invoice_hash", "parse"]

NS = {"inv": NS_INVOICE, "cac": NS_CAC, "cbc": NS_CBC, "ext": NS_EXT}
