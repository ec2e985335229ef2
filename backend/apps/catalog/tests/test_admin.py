"""The catalog in the Django admin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Business, Membership, ScheduleException, Staff
from apps.catalog.tests.factories import ClosureFactory, ScheduleExceptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_user, business) -> Client:
    client = Client()
    client.force_login(make_user(role=User.Role.MANAGER, is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["service", "staff", "scheduleexception", "closure"])
def test_catalog_pages_render(admin, staff, model):
    ScheduleExceptionFactory(
        staff=staff, start=datetime(2026, 12, 1, 7, tzinfo=UTC), end=datetime(2026, 12, 1, 8, tzinfo=UTC)
    )
    ClosureFactory(start_date="2026-12-01", end_date="2026-12-02")

    assert admin.get(f"/admin/catalog/{model}/").status_code == 200
    assert admin.get(f"/admin/catalog/{model}/add/").status_code == 200


def test_staff_page_edits_hours_and_exceptions_inline(admin, staff):
    page = admin.get(f"/admin/catalog/staff/{staff.pk}/change/").content.decode()

    assert "working_hours-TOTAL_FORMS" in page
    assert "exceptions-TOTAL_FORMS" in page
    assert 'id="id_services_from"' in page or "selectfilter" in page.lower()  # filter_horizontal


def test_only_staff_role_users_can_be_given_a_profile(admin, make_user, business):
    staff_user = UserFactory(role=User.Role.STAFF, name="Future staff")
    customer = make_user(role=User.Role.CUSTOMER, name="A customer")

    page = admin.get("/admin/catalog/staff/add/").content.decode()

    assert f'value="{staff_user.pk}"' in page
    assert f'value="{customer.pk}"' not in page


def test_businesses_are_listed_and_edited_never_deleted(admin, business):
    listing = admin.get("/admin/catalog/business/")

    assert listing.status_code == 200
    assert business.name_en in listing.content.decode()
    assert admin.get(f"/admin/catalog/business/{business.pk}/change/").status_code == 200
    assert admin.get(f"/admin/catalog/business/{business.pk}/delete/").status_code == 403


def test_exception_times_are_entered_in_the_business_time_zone(admin, staff, business):
    business.timezone = "Europe/London"  # differs from the server's TIME_ZONE (Asia/Riyadh)
    business.save()

    response = admin.post(
        "/admin/catalog/scheduleexception/add/",
        {
            "staff": staff.pk,
            "kind": ScheduleException.Kind.TIME_OFF,
            "start_0": "2026-12-01",
            "start_1": "10:00",
            "end_0": "2026-12-01",
            "end_1": "11:00",
            "reason": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    exception = ScheduleException.objects.get(staff=staff)
    assert exception.start == datetime(2026, 12, 1, 10, tzinfo=UTC)  # London in winter is UTC


def test_saving_a_staff_member_with_hours(admin, business, branch):
    user = UserFactory(role=User.Role.STAFF)

    response = admin.post(
        "/admin/catalog/staff/add/",
        {
            "user": user.pk,
            "branch": branch.pk,  # the profile takes the branch's business
            "display_name": "Noura",
            "bio": "",
            "photo_url": "",
            "is_active": "on",
            "display_order": 0,
            "working_hours-TOTAL_FORMS": 2,
            "working_hours-INITIAL_FORMS": 0,
            "working_hours-0-weekday": 0,
            "working_hours-0-start_time": "09:00",
            "working_hours-0-end_time": "12:00",
            "working_hours-1-weekday": 0,
            "working_hours-1-start_time": "13:00",
            "working_hours-1-end_time": "17:00",
            "exceptions-TOTAL_FORMS": 0,
            "exceptions-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    noura = Staff.objects.get(display_name="Noura")
    assert noura.business == business
    assert noura.working_hours.count() == 2
    assert set(noura.working_hours.values_list("business_id", flat=True)) == {business.pk}
    assert Membership.objects.filter(business=business, user=user, role=Membership.Role.STAFF).exists()
    assert Business.objects.count() == 1


def test_the_payment_policy_is_checked_in_the_admin_too(service):
    from django.core.exceptions import ValidationError

    service.payment_policy, service.deposit_amount = "deposit", 15001
    with pytest.raises(ValidationError) as raised:
        service.full_clean()  # what the admin's form runs
    assert [e.code for e in raised.value.error_dict["deposit_amount"]] == ["deposit_exceeds_price"]
    service.deposit_amount, service.deposit_percent = None, 30
    service.full_clean()
    service.business.payment_policy = "deposit"
    with pytest.raises(ValidationError) as raised:
        service.business.full_clean()
    assert [e.code for e in raised.value.error_dict["deposit_amount"]] == ["deposit_missing"]
