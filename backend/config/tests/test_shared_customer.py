"""A customer two businesses share (docs/privacy.md, "Who sees what"): the manager of A sees the customer's name
and phone, and A's bookings of them, through every surface (admin, manager API, web calendar), and nothing of
their bookings at B, their email, their sign-ins or their other roles. Platform operators see everything."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import OtpChallenge, User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Membership
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)
EMAIL = "shared.customer@example.com"


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=False):
        yield PINNED


@pytest.fixture
def world(business, service, staff):
    other = BusinessFactory.create(slug="other-b", name_en="Other B")
    other_service = ServiceFactory.create(business=other)
    other_staff = StaffFactory.create(business=other, services=[other_service])
    shared = UserFactory.create(name="Shared Customer", email=EMAIL)
    day_start = datetime(2027, 1, 14, 10, 0, tzinfo=RIYADH)
    at_a = BookingFactory.create(customer=shared, service=service, staff=staff, start=day_start)
    at_b = BookingFactory.create(
        customer=shared, service=other_service, staff=other_staff, start=day_start, notes="B's private matter"
    )
    OtpChallenge.objects.create(phone=str(shared.phone), nonce="n", expires_at=timezone.now())
    manager = UserFactory.create(name="Manager of A", is_staff=True, role=User.Role.MANAGER)
    MembershipFactory.create(business=business, user=manager, role=Membership.Role.MANAGER)
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    return {"shared": shared, "at_a": at_a, "at_b": at_b, "manager": manager, "a": business, "b": other}


def _admin(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_a_manager_the_name_and_phone_only(world):
    client, shared = _admin(world["manager"]), world["shared"]
    listing = client.get("/admin/accounts/user/").content.decode()
    assert "Shared Customer" in listing
    assert EMAIL not in listing
    page = client.get(f"/admin/accounts/user/{shared.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Shared Customer" in html
    assert EMAIL not in html
    assert "Last login" not in html
    # searching by the email finds nobody: the column is hidden, and so is the answer
    assert "Shared Customer" not in client.get("/admin/accounts/user/", {"q": EMAIL}).content.decode()


def test_the_admin_lists_only_the_managers_business_bookings_of_a_shared_customer(world):
    client = _admin(world["manager"])
    html = client.get("/admin/bookings/booking/", {"q": str(world["shared"].phone)}).content.decode()
    assert f"/admin/bookings/booking/{world['at_a'].pk}/change/" in html
    assert f"/admin/bookings/booking/{world['at_b'].pk}/change/" not in html
    assert client.get(f"/admin/bookings/booking/{world['at_b'].pk}/change/").status_code in (302, 404)
    # nor when they signed in: sign-in codes are the platform's
    assert str(world["shared"].phone) not in client.get("/admin/accounts/otpchallenge/").content.decode()


def test_the_manager_api_and_the_calendar_show_only_the_managers_business(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(world['manager']).access_token}")
    day = api.get(f"/api/v1/manage/businesses/{world['a'].slug}/bookings", {"date": "2027-01-14"})
    assert day.status_code == 200
    ids = [row["id"] for row in day.json()["results"]]
    assert ids == [world["at_a"].pk]
    assert api.get(f"/api/v1/manage/businesses/{world['a'].slug}/bookings/{world['at_b'].pk}").status_code == 404
    assert api.get(f"/api/v1/manage/businesses/{world['b'].slug}/bookings").status_code in (403, 404)
    web = _admin(world["manager"])
    page = web.get(f"/calendar/{world['a'].slug}/bookings/{world['at_b'].pk}")
    assert page.status_code == 404
    assert web.get(f"/calendar/{world['b'].slug}/day").status_code in (403, 404)
    assert (
        "B's private matter" not in web.get(f"/calendar/{world['a'].slug}/day", {"date": "2027-01-14"}).content.decode()
    )


def test_a_platform_operator_sees_everything(world):
    operator = UserFactory.create(is_staff=True, is_superuser=True)
    client = _admin(operator)
    page = client.get(f"/admin/accounts/user/{world['shared'].pk}/change/").content.decode()
    assert EMAIL in page
    assert "Last login" in page
    html = client.get("/admin/bookings/booking/", {"q": str(world["shared"].phone)}).content.decode()
    assert f"/admin/bookings/booking/{world['at_b'].pk}/change/" in html


def test_a_customer_who_deleted_their_account_shows_no_phone_to_the_business(world):
    shared = world["shared"]
    User.objects.filter(pk=shared.pk).update(phone="deleted:0123abcd", name="عميل محذوف / Deleted customer")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(world['manager']).access_token}")
    row = api.get(f"/api/v1/manage/businesses/{world['a'].slug}/bookings/{world['at_a'].pk}").json()
    assert (row["customer_name"], row["customer_phone"]) == ("عميل محذوف / Deleted customer", "")
    page = _admin(world["manager"]).get(f"/calendar/{world['a'].slug}/bookings/{world['at_a'].pk}")
    assert page.status_code == 200
    assert "deleted:" not in page.content.decode()
