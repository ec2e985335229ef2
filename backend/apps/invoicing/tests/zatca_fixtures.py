"""Fixtures for the ZATCA tests: the Fatoora fake over real HTTP, an onboarded business, stamped documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from apps.catalog.models import Business
from apps.invoicing import ubl
from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.models import Invoice, TaxProfile, ZatcaCredential
from apps.invoicing.tests.factories import booking_of, vat_business
from apps.invoicing.zatca import samples
from apps.invoicing.zatca.fake import FatooraFake
from apps.invoicing.zatca.onboarding import zatca_onboard
from apps.invoicing.zatca.stamp import stamp_document

OTP = "123345"


@pytest.fixture(scope="session")
def fatoora_server() -> Iterator[FatooraFake]:
    with FatooraFake() as fake:
        yield fake


@pytest.fixture
def fatoora(fatoora_server: FatooraFake, settings) -> Iterator[FatooraFake]:
    fatoora_server.reset()
    fatoora_server.otps = {OTP}
    settings.ZATCA_BASE_URL = fatoora_server.api_url
    settings.ZATCA_ENVIRONMENT = "sandbox"
    settings.ZATCA_READ_TIMEOUT = 2.0
    yield fatoora_server
    fatoora_server.faults.clear()
    fatoora_server.interrupt_pauses()


@pytest.fixture
def business() -> Business:
    return vat_business()


@pytest.fixture
def credential(fatoora: FatooraFake, business: Business) -> ZatcaCredential:
    return zatca_onboard(business=business, otp=OTP)


def seller_of(business: Business) -> ubl.Seller:
    profile = TaxProfile.objects.get(business=business)
    return samples.seller(
        name=profile.legal_name_ar,
        vat_number=business.vat_number,
        street=profile.street,
        building_number=profile.building_number,
        district=profile.district,
        city=profile.city,
        postal_code=profile.postal_code,
    )


@pytest.fixture
def issue(business: Business, credential: ZatcaCredential) -> Callable[..., Invoice]:
    """Issue a stamped invoice of `business` the way inv's service does (next ICV, PIH = the last hash)."""
    state: dict[str, Any] = {"icv": 0, "pih": FIRST_PIH}

    def make(*, net: int = 10000, issued_at: datetime | None = None, building: str | None = None) -> Invoice:
        state["icv"] += 1
        moment = issued_at or timezone.now()
        seller = seller_of(business)
        if building is not None:
            seller = ubl.Seller(**{**{f: getattr(seller, f) for f in seller.__slots__}, "building_number": building})
        document_uuid = str(uuid.uuid4())
        number = f"INV-{state['icv']:06d}"
        xml = samples.document(
            seller=seller,
            number=number,
            uuid=document_uuid,
            icv=state["icv"],
            issued_at=moment,
            net=net,
            pih=state["pih"],
        )
        stamped = stamp_document(xml, credential=credential, signing_time=moment)
        state["pih"] = stamped.invoice_hash
        vat = (net * 15 + 50) // 100
        return Invoice.objects.create(
            business=business,
            booking=booking_of(business),
            kind=Invoice.Kind.INVOICE,
            number=number,
            uuid=document_uuid,
            icv=state["icv"],
            previous_hash=FIRST_PIH,
            invoice_hash=stamped.invoice_hash,
            xml=stamped.xml.decode("utf-8"),
            qr=stamped.qr,
            stamped=True,
            issued_at=moment,
            net=net,
            vat=vat,
            gross=net + vat,
            rate_bps=1500,
            means=Invoice.Means.CARD,
        )

    return make
