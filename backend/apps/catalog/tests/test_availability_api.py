"""Availability through the HTTP API: shapes per API.md, offsets, bad input. The clock is pinned (`now`) to a
Thursday morning; the dates are a week ahead of it, well inside the booking window and past the minimum notice.
A test that must hold on every day of the week asks for `now` on each of them (`EVERY_DAY_OF_A_WEEK`)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from apps.catalog.models import ScheduleException
from apps.catalog.tests.conftest import RIYADH, at, give_hours
from apps.catalog.tests.factories import ClosureFactory, ScheduleExceptionFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db


NOW = datetime(2026, 12, 3, 10, 0, tzinfo=RIYADH)  # a Thursday: `day` is the next one, and the day after it a Friday
EVERY_DAY_OF_A_WEEK = pytest.mark.parametrize(
    "now", [NOW + timedelta(days=n) for n in range(7)], indirect=True, ids=lambda moment: f"{moment:%a}"
)


@pytest.fixture(autouse=True)
def now(request, time_machine) -> datetime:
    """The module's clock: NOW, or the moment a test parametrizes `now` with."""
    moment = getattr(request, "param", NOW)
    time_machine.move_to(moment, tick=True)
    return moment


def today() -> date:
    return timezone.now().astimezone(RIYADH).date()


@pytest.fixture
def day(now) -> date:
    """A working day a week or so ahead (never a Friday, the fixture staff member's day off)."""
    day = today() + timedelta(days=7)
    return day + timedelta(days=1) if day.weekday() == 4 else day


def server_timing(response) -> dict[str, int]:
    """Query counts from our Server-Timing header: {"db": n, "throttle": m}."""
    return {name: int(n) for name, n in re.findall(r'(\w+);dur=[\d.]+;desc="(\d+) queries"', response["Server-Timing"])}


def availability(api_client, staff, **params):
    return api_client.get(f"/api/v1/staff/{staff.pk}/availability", params)


def test_availability_shape_with_offsets(api_client, staff, service, day):
    response = availability(api_client, staff, service=service.pk, date_from=day.isoformat(), date_to=day.isoformat())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"staff", "service", "timezone", "date_from", "date_to", "slots"}
    assert (body["staff"], body["service"], body["timezone"]) == (staff.pk, service.pk, "Asia/Riyadh")
    assert (body["date_from"], body["date_to"]) == (day.isoformat(), day.isoformat())
    assert body["slots"][0] == {"start": f"{day}T09:00:00+03:00", "end": f"{day}T09:30:00+03:00"}
    assert body["slots"][-1] == {"start": f"{day}T16:30:00+03:00", "end": f"{day}T17:00:00+03:00"}
    assert len(body["slots"]) == 11 + 15
    assert f"{day}T11:45:00+03:00" not in {s["start"] for s in body["slots"]}  # lunch break


def test_date_to_defaults_to_date_from_and_date_from_to_today(api_client, staff, service, day):
    one_day = availability(api_client, staff, service=service.pk, date_from=day.isoformat()).json()
    no_dates = availability(api_client, staff, service=service.pk).json()

    assert (one_day["date_from"], one_day["date_to"]) == (day.isoformat(), day.isoformat())
    assert {s["start"][:10] for s in one_day["slots"]} == {day.isoformat()}
    assert (no_dates["date_from"], no_dates["date_to"]) == (today().isoformat(), today().isoformat())


@EVERY_DAY_OF_A_WEEK
def test_a_range_is_searched_whole_and_exceptions_show(api_client, staff, service, day):
    week = [day + timedelta(days=i) for i in range(7)]  # the range searched
    friday = next(d for d in week if d.weekday() == 4)  # the staff member's day off; never `day` itself
    closed = next(d for d in week[1:] if d != friday)  # a closure on the Friday would hide its extra hours
    ScheduleExceptionFactory(staff=staff, start=at("09:00", day), end=at("12:00", day))
    ClosureFactory(start_date=closed, end_date=closed)
    ScheduleExceptionFactory(
        staff=staff, kind=ScheduleException.Kind.EXTRA_HOURS, start=at("18:00", friday), end=at("19:00", friday)
    )

    body = availability(
        api_client, staff, service=service.pk, date_from=day.isoformat(), date_to=(day + timedelta(days=6)).isoformat()
    ).json()

    dates = [s["start"][:10] for s in body["slots"]]
    assert body["slots"][0]["start"] == f"{day}T13:00:00+03:00"  # the morning was taken off
    assert sorted(set(dates)) == [d.isoformat() for d in week if d != closed]  # the Friday by its extra hours
    assert [s["start"][11:16] for s in body["slots"] if s["start"].startswith(friday.isoformat())] == [
        "18:00",
        "18:15",
        "18:30",
    ]


def test_a_range_beyond_the_booking_window_is_cut_to_it(api_client, staff, service, business):
    body = availability(api_client, staff, service=service.pk, date_from="2000-01-01", date_to="9999-12-31").json()

    assert body["date_from"] == today().isoformat()
    assert body["date_to"] == (today() + timedelta(days=business.max_advance_days)).isoformat()
    assert body["slots"][-1]["start"][:10] <= body["date_to"]


def test_a_range_wholly_in_the_past_is_empty(api_client, staff, service):
    body = availability(api_client, staff, service=service.pk, date_from="2001-01-01", date_to="2001-01-05").json()

    assert body["slots"] == []
    assert body["date_from"] is None
    assert body["date_to"] is None


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({}, "validation_error", "service"),
        ({"service": "abc"}, "validation_error", "service"),
        ({"service": "0"}, "validation_error", "service"),
        ({"date_from": "2026-13-01"}, "validation_error", "date_from"),
        ({"date_from": "tomorrow"}, "validation_error", "date_from"),
        ({"date_to": "2026-02-30"}, "validation_error", "date_to"),
        ({"date_from": "2026-12-10", "date_to": "2026-12-09"}, "invalid_date_range", "date_to"),
    ],
)
def test_bad_input_is_a_400_with_the_error_shape(api_client, staff, service, params, code, field):
    params = {"service": service.pk, **params} if "service" not in params and params else params

    response = availability(api_client, staff, **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert field in error.get("fields", {})


def test_unknown_or_inactive_staff_or_service_is_a_404(api_client, staff, service):
    inactive_service = ServiceFactory(is_active=False)
    inactive_staff = StaffFactory(is_active=False, services=[service])
    staff.services.add(inactive_service)
    cases = [
        (999999, service.pk),
        (10**30, service.pk),
        (inactive_staff.pk, service.pk),
        (staff.pk, 999999),
        (staff.pk, inactive_service.pk),
    ]

    for staff_id, service_id in cases:
        response = api_client.get(f"/api/v1/staff/{staff_id}/availability", {"service": service_id})
        assert response.status_code == 404, (staff_id, service_id)
        assert response.json()["error"]["code"] == "not_found"


def test_a_service_the_staff_member_does_not_offer_is_a_400(api_client, staff, business):
    other = ServiceFactory()

    response = availability(api_client, staff, service=other.pk)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "service_not_offered"


def test_availability_is_four_queries_whatever_the_range(api_client, staff, service, day, busy):
    busy.add(staff, at("10:00", day), at("10:30", day))
    busy.add_many(staff, first=at("00:00", day), count=400, every=timedelta(hours=3), length=timedelta(minutes=30))

    one_day = availability(api_client, staff, service=service.pk, date_from=day.isoformat())
    two_months = availability(
        api_client, staff, service=service.pk, date_from=today().isoformat(), date_to="2999-01-01"
    )

    assert one_day.status_code == two_months.status_code == 200
    # staff + service (with their business), schedule rows, busy source (the rate limiter's cache aside)
    assert server_timing(one_day)["db"] == server_timing(two_months)["db"] == 3
    assert f"{day}T10:00:00+03:00" not in {s["start"] for s in one_day.json()["slots"]}


def test_any_staff_availability_shape(api_client, staff, service, day, busy):
    other = StaffFactory(display_name="Omar", services=[service], hours=[])
    give_hours(other, ("09:00", "10:00"))
    busy.add(staff, at("09:00", day), at("09:30", day))

    response = api_client.get("/api/v1/availability", {"service": service.pk, "date": day.isoformat()})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"service", "date", "timezone", "staff", "slots"}
    assert (body["service"], body["date"], body["timezone"]) == (service.pk, day.isoformat(), "Asia/Riyadh")
    assert body["staff"] == [staff.pk, other.pk]
    assert body["slots"][:3] == [
        {"start": f"{day}T09:00:00+03:00", "end": f"{day}T09:30:00+03:00", "staff": [other.pk]},
        {"start": f"{day}T09:15:00+03:00", "end": f"{day}T09:45:00+03:00", "staff": [other.pk]},
        {"start": f"{day}T09:30:00+03:00", "end": f"{day}T10:00:00+03:00", "staff": sorted([staff.pk, other.pk])},
    ]
    assert server_timing(response)["db"] == 3  # service + its staff and business, schedule rows, busy source


def test_any_staff_bad_input(api_client, service):
    inactive = ServiceFactory(is_active=False)

    assert api_client.get("/api/v1/availability").json()["error"]["code"] == "validation_error"
    assert api_client.get("/api/v1/availability", {"service": service.pk, "date": "x"}).status_code == 400
    assert api_client.get("/api/v1/availability", {"service": inactive.pk}).status_code == 404
    assert api_client.get("/api/v1/availability", {"service": 999999}).status_code == 404
    far = api_client.get("/api/v1/availability", {"service": service.pk, "date": "2999-01-01"})
    assert far.status_code == 200
    assert far.json()["slots"] == []


def test_the_schema_documents_the_catalog(api_client, business):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    if response["Content-Type"].startswith("application/vnd.oai.openapi") and not response.content.startswith(b"{"):
        import yaml

        schema = yaml.safe_load(response.content)
    else:
        schema = response.json()

    paths = schema["paths"]
    availability_op = paths["/api/v1/staff/{staff_id}/availability"]["get"]
    assert availability_op["operationId"] == "catalog_staff_availability"
    assert {p["name"] for p in availability_op["parameters"]} >= {"staff_id", "service", "date_from", "date_to"}
    assert {p["name"] for p in paths["/api/v1/availability"]["get"]["parameters"]} == {"service", "date"}
    for path in ("/api/v1/services", "/api/v1/services/{service_id}", "/api/v1/staff", "/api/v1/staff/{staff_id}"):
        assert "200" in paths[path]["get"]["responses"]
    components = schema["components"]["schemas"]
    assert {"Service", "Staff", "Slot", "StaffAvailability", "AnyStaffAvailability", "Money"} <= set(components)
    assert components["Service"]["properties"]["price"]["$ref"] == "#/components/schemas/Money"
    assert "service_not_offered" in schema["info"]["description"]
    assert "invalid_date_range" in schema["info"]["description"]
