"""Availability at the ends of the calendar: the public endpoints cut any range to the booking window (documented
in API.md), so a date no arithmetic could reach past (9999-12-31, 0001-01-01) is an empty answer, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# (query, whether nothing of it is left once cut to the booking window)
EXTREMES = [
    ({"date_from": "9999-12-31"}, True),
    ({"date_from": "9999-12-30", "date_to": "9999-12-31"}, True),
    ({"date_from": "0001-01-01", "date_to": "0001-01-01"}, True),
    ({"date_from": "0001-01-01"}, True),  # date_to defaults to date_from
    ({"date_to": "9999-12-31"}, False),  # from today to the end of the window
    ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, False),
]


@pytest.fixture
def client(api_client, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False  # a crash comes back as the 500 a client would see
    return api_client


@pytest.mark.parametrize(("params", "nothing_left"), EXTREMES)
def test_one_staff_member_s_availability_survives_the_ends_of_the_calendar(
    client, staff, service, params, nothing_left
):
    response = client.get(f"/api/v1/staff/{staff.pk}/availability", {"service": service.pk, **params})

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    if nothing_left:
        assert (body["date_from"], body["date_to"], body["slots"]) == (None, None, [])
    else:
        assert body["date_from"] is not None


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
def test_any_staff_availability_survives_the_ends_of_the_calendar(client, staff, service, date):
    response = client.get("/api/v1/availability", {"service": service.pk, "date": date})

    assert response.status_code == 200, response.content[:300]
    assert response.json()["slots"] == []
