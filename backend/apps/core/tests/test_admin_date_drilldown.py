"""The admin's date drill-down at the end of the calendar: every changelist with a `date_hierarchy` answers an
out-of-range year, month or day like any other bad filter (back to the list with `?e=1`), never a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

DRILL_DOWNS = [
    {"year": "9999"},  # the end of the year is 10000-01-01
    {"year": "9999", "month": "12"},
    {"year": "9999", "month": "12", "day": "31"},
    {"year": "99999999999999999999"},
    {"year": "0", "month": "1"},
]
WITH_DATE_HIERARCHY = sorted(
    (f"{model._meta.app_label}/{model._meta.model_name}", model_admin.date_hierarchy)
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
)


@pytest.fixture
def manager_client(settings) -> Client:
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    manager = get_user_model().objects.create_user(
        phone="+966500000099", role="manager", name="Manager", is_staff=True, is_superuser=True
    )
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


def test_the_admins_with_a_date_drill_down_are_the_ones_we_expect():
    assert {name for name, _ in WITH_DATE_HIERARCHY} >= {
        "bookings/booking",
        "catalog/scheduleexception",
        "catalog/closure",
        "notifications/notification",
        "payments/payment",
    }


@pytest.mark.parametrize(("changelist", "field"), WITH_DATE_HIERARCHY)
@pytest.mark.parametrize("parts", DRILL_DOWNS, ids=lambda parts: "-".join(parts.values()))
def test_an_out_of_range_drill_down_is_an_invalid_filter_not_a_500(manager_client, changelist, field, parts):
    query = {f"{field}__{part}": value for part, value in parts.items()}

    response = manager_client.get(f"/admin/{changelist}/", query)

    assert response.status_code == 302, response.status_code
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(("changelist", "field"), WITH_DATE_HIERARCHY)
def test_an_ordinary_drill_down_still_works(manager_client, changelist, field):
    response = manager_client.get(f"/admin/{changelist}/", {f"{field}__year": "2026", f"{field}__month": "12"})

    assert response.status_code == 200
