"""The QR code's content: ZATCA TLV records, base64 (shared/specs/zatca.md §1 "QR code", §2 "QR tags 6-9").

Each record is tag (1 byte) ‖ length (1 byte: the number of UTF-8 *bytes*, not characters) ‖ value (UTF-8), in
tag order; the concatenation is base64-encoded (standard alphabet, padded). Every value must stay under 128 bytes
(the 1-byte length of the standard; ZATCA's sample would write BER long form above it: UNCERTAIN, so we refuse).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

MAX_VALUE_BYTES = 127
MAX_QR_CHARS = 700
SELLER_NAME_MAX_CHARS = 63  # as Odoo caps it: 63 Arabic characters are at most 126 bytes


class QrError(ValueError):
    pass


def amount_text(halalas: int) -> str:
    """2 decimals, a '.' separator, no currency or thousands separators: 11500 -> '115.00'."""
    if halalas < 0:
        raise QrError("amounts are never negative")
    return f"{halalas // 100}.{halalas % 100:02d}"


def tlv(records: list[tuple[int, bytes | str]]) -> bytes:
    out = bytearray()
    for tag, value in records:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if not 1 <= tag <= 255:
            raise QrError(f"bad tag {tag}")
        if len(raw) > MAX_VALUE_BYTES:
            raise QrError(f"tag {tag} is {len(raw)} bytes; at most {MAX_VALUE_BYTES}")
        if not raw:
            raise QrError(f"tag {tag} is empty")
        out += bytes([tag, len(raw)]) + raw
    return bytes(out)


def decode(qr: str) -> dict[int, bytes]:
    """The records of a base64 TLV (for tests and checks)."""
    data = base64.b64decode(qr, validate=True)
    records: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise QrError("truncated record")
        tag, length = data[i], data[i + 1]
        value = data[i + 2 : i + 2 + length]
        if len(value) != length:
            raise QrError("truncated value")
        records[tag] = value
        i += 2 + length
    return records


@dataclass(frozen=True, slots=True)
class QrFields:
    seller_name: str
    vat_number: str
    timestamp: str  # IssueDate + "T" + IssueTime exactly as in the XML
    total_with_vat: int  # halalas (TaxInclusiveAmount)
    vat_total: int  # halalas (TaxTotal/TaxAmount)
    invoice_hash: str = ""  # tag 6: the hash as base64 text
    signature: str = ""  # tag 7: SignatureValue as base64 text (stamped documents only)
    public_key: bytes = b""  # tag 8: DER SubjectPublicKeyInfo
    certificate_signature: bytes = b""  # tag 9: the CA's signature on the certificate, DER


def qr_base64(fields: QrFields) -> str:
    """Tags 1-5, then 6-9 for those given (in order: a later tag never without the earlier ones)."""
    records: list[tuple[int, bytes | str]] = [
        (1, fields.seller_name),
        (2, fields.vat_number),
        (3, fields.timestamp),
        (4, amount_text(fields.total_with_vat)),
        (5, amount_text(fields.vat_total)),
    ]
    for tag, value in (
        (6, fields.invoice_hash),
        (7, fields.signature),
        (8, fields.public_key),
        (9, fields.certificate_signature),
    ):
        if not value:
            break
        records.append((tag, value))
    text = base64.b64encode(tlv(records)).decode("ascii")
    if len(text) > MAX_QR_CHARS:
        raise QrError(f"the QR text is {len(text)} characters; at most {MAX_QR_CHARS}")
    return text


def seller_name_for_qr(name: str) -> str:
    return name[:SELLER_NAME_MAX_CHARS]
