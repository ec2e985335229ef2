"""The QR TLV against the spec's worked example, byte for byte (shared/specs/zatca.md §1 "QR code")."""

from __future__ import annotations

import base64

import pytest

from apps.invoicing.qr import QrError, QrFields, decode, qr_base64, tlv

LATIN = "AQtNYXdpZCBTYWxvbgIPMzEwMTIyMzkzNTAwMDAzAxQyMDI0LTA1LTAxVDEwOjMwOjAwWgQGMTE1LjAwBQUxNS4wMA=="
ARABIC = "ARfYtdin2YTZiNmGINmF2YjYp9i52YrYrwIPMzEwMTIyMzkzNTAwMDAzAxQyMDI0LTA1LTAxVDEwOjMwOjAwWgQGMTE1LjAwBQUxNS4wMA=="
EXPECTED_HEX = (
    "01 0b 4d 61 77 69 64 20 53 61 6c 6f 6e"
    " 02 0f 33 31 30 31 32 32 33 39 33 35 30 30 30 30 33"
    " 03 14 32 30 32 34 2d 30 35 2d 30 31 54 31 30 3a 33 30 3a 30 30 5a"
    " 04 06 31 31 35 2e 30 30 05 05 31 35 2e 30 30"
)


def _fields(name: str) -> QrFields:
    return QrFields(
        seller_name=name,
        vat_number="310122393500003",
        timestamp="2024-05-01T10:30:00Z",
        total_with_vat=11500,
        vat_total=1500,
    )


def test_the_worked_example_byte_for_byte():
    text = qr_base64(_fields("Mawid Salon"))
    assert text == LATIN
    raw = base64.b64decode(text)
    assert raw == bytes.fromhex(EXPECTED_HEX)
    assert len(raw) == 67


def test_an_arabic_name_counts_bytes_not_characters():
    name = "صالون مواعيد"
    assert len(name) == 12
    text = qr_base64(_fields(name))
    assert text == ARABIC
    raw = base64.b64decode(text)
    assert raw[:3] == bytes([0x01, 0x17, 0xD8])  # 23 bytes, then the first byte of 'ص'
    assert decode(text)[1].decode("utf-8") == name


def test_tags_six_to_nine_follow_when_given():
    fields = QrFields(
        seller_name="Mawid Salon",
        vat_number="310122393500003",
        timestamp="2024-05-01T10:30:00",
        total_with_vat=11500,
        vat_total=1500,
        invoice_hash="A" * 44,
    )
    records = decode(qr_base64(fields))
    assert sorted(records) == [1, 2, 3, 4, 5, 6]
    assert records[6] == b"A" * 44
    assert records[4] == b"115.00"
    assert records[5] == b"15.00"


def test_a_value_over_127_bytes_is_refused():
    with pytest.raises(QrError):
        tlv([(1, "ص" * 64)])  # 128 bytes
    assert tlv([(1, "ص" * 63)])[:2] == bytes([1, 126])
