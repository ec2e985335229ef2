"""Unsigned sample documents for onboarding's compliance checks (a simplified invoice and a simplified credit note
for the declared type `0100`) and for tests, built with inv's `apps.invoicing.ubl.build` like the real ones."""

from __future__ import annotations

from datetime import datetime

from apps.core.vat import STANDARD_RATE_BPS, vat_of_net
from apps.invoicing import ubl
from apps.invoicing.constants import FIRST_PIH


def seller(*, name: str, vat_number: str, **address: str) -> ubl.Seller:
    values = {
        "cr_number": "1010010000",
        "street": "King Fahd Road",
        "building_number": "1234",
        "additional_number": "5678",
        "district": "Al Olaya",
        "city": "Riyadh",
        "postal_code": "12345",
    }
    values.update(address)
    return ubl.Seller(name=name, vat_number=vat_number, **values)


def document(
    *,
    seller: ubl.Seller,
    number: str,
    uuid: str,
    icv: int,
    issued_at: datetime,
    net: int,
    item: str = "Haircut",
    pih: str = FIRST_PIH,
    credit_for: str = "",
    reason: str = "",
    means: str = "48",
) -> bytes:
    """One simplified document with one line of `net` halalas at 15 %; `credit_for` (an invoice number) makes it a
    381 credit note with `reason`."""
    vat = vat_of_net(net)
    return ubl.build(
        ubl.Document(
            number=number,
            uuid=uuid,
            issued_at=issued_at,
            type_code="381" if credit_for else "388",
            icv=icv,
            previous_hash=pih,
            seller=seller,
            means_code=means,
            net=net,
            vat=vat,
            rate_bps=STANDARD_RATE_BPS,
            lines=[ubl.Line(name=item, net=net, vat=vat)],
            original_number=credit_for,
            reason=reason,
        )
    )
