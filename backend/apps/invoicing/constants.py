"""Fixed values of ZATCA's simplified documents (shared/specs/zatca.md)."""

from __future__ import annotations

# The first document's PIH: base64 of the *hex text* of SHA-256("0") (the only hash here that is not base64 of raw
# bytes).
FIRST_PIH = "NWZlY2ViNjZmZmM4NmYzOGQ5NTI3ODZjNmQ2OTZjNzljMmRiYzIzOWRkNGU5MWI0NjcyOWQ3M2EyN2ZiNTdlOQ=="

TYPE_INVOICE = "388"
TYPE_CREDIT = "381"
SIMPLIFIED_NAME = "0200000"  # NNPNESB: 02 simplified, no 3rd-party / nominal / export / summary / self-billed
MEANS_CARD = "48"
MEANS_CASH = "10"
