"""The tax profile in the manager API (`/api/v1/manage/businesses/<slug>/tax-profile`): owners and managers read
and replace it through HTTP with the real middleware; bad fields are 400 and write nothing; the business's staff
get 403 and anyone else 404; the ZATCA status is shown without its key, tokens or secrets."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import time_machine

from apps.catalog.models import Business, Membership
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory
from apps.invoicing import services
from apps.invoicing.models import TaxProfile, ZatcaCredential
from apps.invoicing.tests.factories import VAT_NUMBER, booking_of, vat_business

pytestmark = pytest.mark.django_db

URL = "/api/v1/manage/businesses/{}/tax-profile"

PROFILE = {
    "legal_name_ar": "صالون مواعيد",
    "legal_name_en": "Mawid Salon",
    "cr_number": "1010010000",
    "street": "King Fahd Road",
    "building_number": "1234",
    "additional_number": "5678",
    "district": "Al Olaya",
    "city": "Riyadh",
    "postal_code": "12214",
}


@pytest.fixture
def vat_salon(business: Business) -> Business:
    business.vat_number = VAT_NUMBER
    business.save(update_fields=["vat_number"])
    return business


def member(business: Business, role: str):
    return MembershipFactory.create(business=business, role=role).user


def test_an_owner_reads_a_missing_profile_then_sets_it(vat_salon, auth_client):
    owner = auth_client(member(vat_salon, Membership.Role.OWNER))
    body = owner.get(URL.format("salon")).json()
    assert body == {
        "vat_number": VAT_NUMBER,
        "vat_registered": True,
        "tax_profile_missing": True,
        "tax_profile": None,
        "zatca": None,
    }

    response = owner.put(URL.format("salon"), PROFILE, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["tax_profile"] == PROFILE
    assert response.json()["tax_profile_missing"] is False
    stored = TaxProfile.objects.get(business=vat_salon)
    assert (stored.building_number, stored.postal_code, stored.city) == ("1234", "12214", "Riyadh")
    assert owner.get(URL.format("salon")).json()["tax_profile"] == PROFILE


def test_a_manager_replaces_the_profile_and_left_out_optional_fields_become_blank(vat_salon, auth_client):
    manager = auth_client(member(vat_salon, Membership.Role.MANAGER))
    assert manager.put(URL.format("salon"), PROFILE, format="json").status_code == 200
    changed = {k: v for k, v in PROFILE.items() if k not in ("legal_name_en", "cr_number", "additional_number")}
    changed["city"] = "Jeddah"
    response = manager.put(URL.format("salon"), changed, format="json")
    assert response.status_code == 200, response.json()
    assert TaxProfile.objects.filter(business=vat_salon).count() == 1
    stored = TaxProfile.objects.get(business=vat_salon)
    assert (stored.city, stored.legal_name_en, stored.cr_number, stored.additional_number) == ("Jeddah", "", "", "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("building_number", "123"),
        ("building_number", "12a4"),
        ("postal_code", "1221"),
        ("postal_code", "122145"),
        ("cr_number", "12345"),
        ("additional_number", "56789"),
        ("legal_name_ar", ""),
        ("legal_name_ar", "ص" * 64),
    ],
)
def test_bad_fields_are_400_and_write_nothing(vat_salon, auth_client, field, value):
    owner = auth_client(member(vat_salon, Membership.Role.OWNER))
    response = owner.put(URL.format("salon"), {**PROFILE, field: value}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert not TaxProfile.objects.filter(business=vat_salon).exists()


def test_a_missing_required_field_is_400(vat_salon, auth_client):
    owner = auth_client(member(vat_salon, Membership.Role.OWNER))
    body = {k: v for k, v in PROFILE.items() if k != "postal_code"}
    response = owner.put(URL.format("salon"), body, format="json")
    assert response.status_code == 400
    assert "postal_code" in response.json()["error"]["fields"]


def test_staff_get_403_and_others_404(vat_salon, auth_client, customer):
    TaxProfile.objects.create(business=vat_salon, **PROFILE)
    staff = auth_client(member(vat_salon, Membership.Role.STAFF))
    assert staff.get(URL.format("salon")).status_code == 403
    assert staff.put(URL.format("salon"), {**PROFILE, "city": "Dammam"}, format="json").status_code == 403

    other = BusinessFactory.create(slug="barber")
    stranger = auth_client(member(other, Membership.Role.OWNER))
    for client in (stranger, auth_client(customer)):
        assert client.get(URL.format("salon")).status_code == 404
        response = client.put(URL.format("salon"), {**PROFILE, "city": "Dammam"}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert TaxProfile.objects.get(business=vat_salon).city == "Riyadh"


def test_the_zatca_status_is_shown_without_its_secrets(vat_salon, auth_client):
    expires = datetime(2031, 1, 1, tzinfo=UTC)
    ZatcaCredential.objects.create(
        business=vat_salon,
        environment=ZatcaCredential.Environment.SIMULATION,
        status=ZatcaCredential.Status.ACTIVE,
        egs_serial="1-Mawid|2-1|3-serial",
        private_key_pem="-----BEGIN EC PRIVATE KEY-----secret-key",
        csr_pem="csr",
        compliance_token="compliance-token",
        compliance_secret="compliance-secret",
        production_token="production-token",
        production_secret="production-secret",
        certificate_expires_at=expires,
    )
    owner = auth_client(member(vat_salon, Membership.Role.OWNER))
    response = owner.get(URL.format("salon"))
    assert response.json()["zatca"] == {
        "environment": "simulation",
        "status": "active",
        "active": True,
        "certificate_expires_at": "2031-01-01T03:00:00+03:00",
    }
    text = response.content.decode()
    for secret in ("secret-key", "compliance-token", "compliance-secret", "production-token", "production-secret"):
        assert secret not in text


def test_a_business_without_a_vat_number_is_not_missing_a_profile(business, auth_client):
    owner = auth_client(member(business, Membership.Role.OWNER))
    body = owner.get(URL.format("salon")).json()
    assert (body["vat_registered"], body["tax_profile_missing"], body["tax_profile"]) == (False, False, None)


# --- a VAT number without a tax profile -----------------------------------------------------------------------


def test_the_policies_answer_says_the_tax_profile_is_missing(business, auth_client):
    owner = auth_client(member(business, Membership.Role.OWNER))
    policies = "/api/v1/manage/businesses/salon/policies"
    assert owner.get(policies).json()["tax_profile_missing"] is False  # not VAT-registered

    response = owner.patch(policies, {"vat_number": VAT_NUMBER}, format="json")
    assert response.status_code == 200, response.json()  # registering still works without a profile
    assert (response.json()["vat_registered"], response.json()["tax_profile_missing"]) == (True, True)

    assert owner.put(URL.format("salon"), PROFILE, format="json").status_code == 200
    assert owner.get(policies).json()["tax_profile_missing"] is False


@time_machine.travel("2026-05-01T10:30:00Z", tick=False)
def test_an_invoice_without_a_tax_profile_is_issued_and_logged(caplog):
    business = vat_business(profile=False)
    booking = booking_of(business, price=11500)
    with caplog.at_level(logging.WARNING, logger="mawid.invoicing"):
        invoice = services.invoice_issue(booking_id=booking.pk, gross=11500, means="card")
    assert invoice is not None  # the money is invoiced all the same
    assert (invoice.number, invoice.gross, invoice.seller["building_number"]) == ("INV-000001", 11500, "")
    [record] = [r for r in caplog.records if r.getMessage() == "invoice_without_tax_profile"]
    assert (record.business_id, record.invoice_number, record.invoice_kind) == (business.pk, "INV-000001", "invoice")

    caplog.clear()
    TaxProfile.objects.create(business=business, **PROFILE)
    with caplog.at_level(logging.WARNING, logger="mawid.invoicing"):
        second = services.invoice_issue(booking_id=booking.pk, gross=3450, means="cash")
    assert second is not None
    assert second.seller["building_number"] == "1234"
    assert not [r for r in caplog.records if r.getMessage() == "invoice_without_tax_profile"]
