"""VAT registration of a business (its 15-digit number) and what it means for its prices: a VAT-registered
business's price must be one a tax invoice can total (apps/core/vat.py); an unreachable one is refused with the two
nearest that are, in the manager API (400 `price_not_reachable`) and the admin (the form's error); prices set before
it registered are reported (the policies response, an admin warning) and charged as the invoice total."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from django.test import RequestFactory

from apps.accounts.models import User
from apps.catalog.models import Business, Membership, Service, price_problem
from apps.catalog.selectors import vat_unreachable_prices
from apps.catalog.tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db

VAT_NUMBER = "300000000000003"

# The number: 15 digits, the first and the last 3 (ZATCA's BR-KSA-39/40); the 11th is 1 for a VAT group.
NUMBERS = [
    ("300000000000003", True),
    ("310122393500003", True),  # the spec's sample seller
    ("399999999999993", True),
    ("300000000010003", True),  # 11th digit 1: a VAT group's number
    ("311111111111113", True),
    ("", True),  # not registered
    ("30000000000003", False),  # 14 digits
    ("3000000000000003", False),  # 16 digits
    ("200000000000003", False),  # does not start with 3
    ("300000000000002", False),  # does not end with 3
    ("30000000000000A", False),
    ("3000000000000 3", False),
    ("300-000-000-003", False),
    ("٣٠٠٠٠٠٠٠٠٠٠٠٠٠٣", False),  # Arabic-Indic digits: the number is stated in ASCII digits
    ("3٠٠٠٠٠٠٠٠٠٠٠٠٠3", False),  # (a regex's \d alone would take these)
]


@pytest.mark.parametrize(("number", "valid"), NUMBERS)
def test_the_vat_number_is_validated(business, number, valid):
    business.vat_number = number
    if valid:
        business.full_clean()
        assert business.is_vat_registered == bool(number)
    else:
        with pytest.raises(ValidationError) as raised:
            business.full_clean()
        assert "vat_number" in raised.value.message_dict


@pytest.fixture
def owner(business) -> User:
    return MembershipFactory.create(business=business, role=Membership.Role.OWNER).user


@pytest.fixture
def mc(owner, auth_client):
    return auth_client(owner)


def url(path: str) -> str:
    return f"/api/v1/manage/businesses/salon/{path}"


@pytest.mark.parametrize("number", ["30000000000003", "200000000000003", "300000000000002", "3000000000000031"])
def test_a_bad_number_is_a_clear_400_and_changes_nothing(mc, business, number):
    response = mc.patch(url("policies"), {"vat_number": number}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["vat_number"]
    business.refresh_from_db()
    assert business.vat_number == ""


def test_a_vat_group_number_is_accepted(mc, business):
    response = mc.patch(url("policies"), {"vat_number": "300000000010003"}, format="json")
    assert response.status_code == 200
    assert response.json()["vat_number"] == "300000000010003"
    assert response.json()["vat_registered"] is True


def test_registering_with_unreachable_prices_is_allowed_and_reported(mc, business):
    # given: prices set before the business registered: 150.00 SAR and 35.00 SAR cannot be an invoice's total
    # at 15%, 115.00 SAR can (100.00 + 15.00)
    odd = ServiceFactory.create(name_en="Haircut", price_amount=15000)
    also_odd = ServiceFactory.create(name_en="Fringe", price_amount=3500)
    ServiceFactory.create(name_en="Beard", price_amount=11500)
    before = mc.get(url("policies")).json()
    assert (before["vat_registered"], before["vat_unreachable_prices"]) == (False, [])
    # when
    response = mc.patch(url("policies"), {"vat_number": VAT_NUMBER}, format="json")
    # then: registered, and told which prices are charged a halala off until changed
    assert response.status_code == 200
    body = response.json()
    assert body["vat_registered"] is True
    assert body["vat_unreachable_prices"] == [
        {
            "service_id": odd.pk,
            "name": "Haircut",
            "price_amount": 15000,
            "charged_amount": 14999,
            "lower": 14999,
            "upper": 15001,
        },
        {
            "service_id": also_odd.pk,
            "name": "Fringe",
            "price_amount": 3500,
            "charged_amount": 3499,
            "lower": 3499,
            "upper": 3501,
        },
    ]
    assert mc.get(url("policies")).json()["vat_unreachable_prices"] == body["vat_unreachable_prices"]


def test_an_unreachable_price_is_refused_with_the_nearest_two(mc, business, service):
    business.vat_number = VAT_NUMBER
    business.save()
    response = mc.patch(url(f"services/{service.pk}"), {"price_amount": 1000}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "price_not_reachable"
    assert (error["lower"], error["upper"], error["currency"]) == (999, 1001, "SAR")
    assert "9.99 SAR" in error["fields"]["price_amount"][0]
    assert "10.01 SAR" in error["fields"]["price_amount"][0]
    service.refresh_from_db()
    assert service.price_amount == 15000
    # a new service too, and nothing is written
    count = Service.objects.count()
    created = mc.post(
        url("services"),
        {"name_en": "Nails", "name_ar": "أظافر", "duration_minutes": 30, "price_amount": 3500},
        format="json",
    )
    assert created.status_code == 400
    assert created.json()["error"]["code"] == "price_not_reachable"
    assert Service.objects.count() == count
    # a suggested price is taken
    ok = mc.patch(url(f"services/{service.pk}"), {"price_amount": error["upper"]}, format="json")
    assert ok.status_code == 200
    assert ok.json()["price_amount"] == 1001


def test_a_business_without_a_vat_number_sets_any_price(mc, business, service):
    response = mc.patch(url(f"services/{service.pk}"), {"price_amount": 1000}, format="json")
    assert response.status_code == 200
    assert price_problem(business, 1000) is None


def test_the_admin_form_refuses_an_unreachable_price(business):
    business.vat_number = VAT_NUMBER
    business.save()
    form_class = modelform_factory(
        Service, fields=["business", "name_en", "name_ar", "duration_minutes", "price_amount"]
    )
    data = {"business": business.pk, "name_en": "Nails", "name_ar": "أظافر", "duration_minutes": 30}
    refused = form_class(data={**data, "price_amount": 15000})
    assert not refused.is_valid()
    assert refused.errors.as_data()["price_amount"][0].code == "price_not_reachable"
    assert "149.99 SAR" in refused.errors["price_amount"][0]
    assert form_class(data={**data, "price_amount": 11500}).is_valid()


def test_the_admin_warns_about_unreachable_prices_when_the_business_registers(business, make_user):
    ServiceFactory.create(name_en="Haircut", price_amount=15000)
    request = RequestFactory().post("/admin/catalog/business/")
    request.user = make_user(role=User.Role.MANAGER, is_staff=True, is_superuser=True)
    request.session = {}
    request._messages = FallbackStorage(request)
    business.vat_number = VAT_NUMBER
    site._registry[Business].save_model(request, business, form=None, change=True)
    shown = [str(m) for m in request._messages]
    assert len(shown) == 1
    assert "Haircut 150.00 SAR → 149.99 SAR" in shown[0]
    assert [u.charged_amount for u in vat_unreachable_prices(business)] == [14999]
