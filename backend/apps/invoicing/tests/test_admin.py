"""The admin: a manager keeps their business's tax profile (one per business, a form error not a 500 for a
second); invoices are read-only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Membership
from apps.catalog.tests.factories import MembershipFactory
from apps.invoicing import services
from apps.invoicing.models import Invoice, TaxProfile
from apps.invoicing.tests.factories import booking_of, vat_business

pytestmark = pytest.mark.django_db

PROFILE = {
    "legal_name_ar": "صالون مواعيد",
    "street": "King Fahd Road",
    "building_number": "1234",
    "district": "Al Olaya",
    "city": "Riyadh",
    "postal_code": "12214",
}


@pytest.fixture
def manager_browser():
    business = vat_business(profile=False)
    user = UserFactory.create(name="Manager", is_staff=True)
    MembershipFactory.create(business=business, user=user, role=Membership.Role.MANAGER)
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    client = Client()
    client.force_login(user)
    return business, client


def test_a_manager_adds_one_tax_profile_and_a_second_is_a_form_error(manager_browser):
    business, client = manager_browser
    response = client.post("/admin/invoicing/taxprofile/add/", {**PROFILE, "building_number": "12"})
    assert response.status_code == 200  # the form again: 4 digits
    assert not TaxProfile.objects.exists()
    assert client.post("/admin/invoicing/taxprofile/add/", PROFILE).status_code == 302
    assert TaxProfile.objects.get().business == business
    again = client.post("/admin/invoicing/taxprofile/add/", PROFILE)
    assert again.status_code == 200
    assert "already has a tax profile" in again.content.decode()
    assert TaxProfile.objects.count() == 1


def test_invoices_are_read_only_in_the_admin(manager_browser):
    business, client = manager_browser
    invoice = services.invoice_issue(booking_id=booking_of(business).pk, gross=11500, means="card")
    assert client.get("/admin/invoicing/invoice/").status_code == 200
    page = client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/invoicing/invoice/{invoice.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.post(f"/admin/invoicing/invoice/{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()
