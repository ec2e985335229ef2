"""The manager API, catalog half (`/api/v1/manage/businesses/<slug>/...`, `/api/v1/manage/me/time-off`): CRUD
through HTTP with the real middleware (the enforced business scope), validation, roles. Cross-business isolation
for every route is the table in apps/payments/tests/test_manage_isolation.py."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from apps.accounts.models import User
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Service,
    Staff,
    TimeOffRequest,
    WorkingHours,
)
from apps.catalog.selectors import staff_schedules
from apps.catalog.tests.factories import BranchFactory, BusinessFactory, MembershipFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(business) -> User:
    return MembershipFactory.create(business=business, role=Membership.Role.OWNER).user


@pytest.fixture
def mc(owner, auth_client):
    """The salon owner's client."""
    return auth_client(owner)


@pytest.fixture
def other() -> Business:
    """Another business, with its own branch, service and staff member."""
    other = BusinessFactory.create(slug="barber")
    ServiceFactory.create(business=other)
    StaffFactory.create(business=other)
    return other


def url(path: str, slug: str = "salon") -> str:
    return f"/api/v1/manage/businesses/{slug}/{path}"


def error(response) -> dict:
    return response.json()["error"]


# --- who may call ---------------------------------------------------------------------------------------------


def test_anonymous_callers_are_401(api_client, business):
    assert api_client.get(url("services")).status_code == 401


def test_a_customer_or_an_unknown_business_is_404(auth_client, customer, mc):
    response = auth_client(customer).get(url("services"))
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert mc.get(url("services", "nowhere")).status_code == 404


def test_an_inactive_business_is_404_to_its_owner(mc, business):
    Business.objects.filter(pk=business.pk).update(is_active=False)
    assert mc.get(url("services")).status_code == 404


def test_staff_read_the_catalog_but_cannot_change_it(auth_client, staff, service):
    client = auth_client(staff.user)
    assert client.get(url("services")).status_code == 200
    for method, path in [("post", "services"), ("patch", f"services/{service.pk}"), ("patch", "policies")]:
        response = getattr(client, method)(url(path), {"name_en": "x"}, format="json")
        assert response.status_code == 403, path
        assert error(response)["code"] == "permission_denied"
    assert client.get(url("time-off-requests")).status_code == 403
    assert Service.objects.get(pk=service.pk).name_en == service.name_en


def test_a_superuser_manages_any_business(auth_client, business, make_user):
    root = make_user(role="manager", is_superuser=True, is_staff=True)
    assert auth_client(root).get(url("services")).status_code == 200


# --- branches ------------------------------------------------------------------------------------------------


def test_branch_crud(mc, business):
    created = mc.post(url("branches"), {"name_en": "Jeddah", "city": "Jeddah", "latitude": 21.5}, format="json")
    assert created.status_code == 201, created.json()
    branch_id = created.json()["id"]
    assert Branch.objects.get(pk=branch_id).business == business
    listed = mc.get(url("branches")).json()
    assert branch_id in [row["id"] for row in listed["results"]]
    assert mc.patch(url(f"branches/{branch_id}"), {"district": "Al Hamra"}, format="json").json()["district"] == (
        "Al Hamra"
    )
    assert mc.delete(url(f"branches/{branch_id}")).status_code == 204
    assert not Branch.objects.filter(pk=branch_id).exists()


def test_a_branch_with_staff_cannot_be_deleted(mc, staff):
    response = mc.delete(url(f"branches/{staff.branch_id}"))
    assert response.status_code == 409
    assert error(response)["code"] == "in_use"
    assert Branch.objects.filter(pk=staff.branch_id).exists()


def test_a_branch_with_bad_coordinates_is_a_400(mc):
    response = mc.post(url("branches"), {"name_en": "X", "latitude": 200}, format="json")
    assert response.status_code == 400
    assert "latitude" in error(response)["fields"]


# --- services ------------------------------------------------------------------------------------------------


def test_service_create_offered_at_some_branches(mc, business, branch):
    body = {
        "name_en": "Beard",
        "name_ar": "لحية",
        "duration_minutes": 20,
        "price_amount": 5000,
        "branches": [branch.pk],
    }
    response = mc.post(url("services"), body, format="json")
    assert response.status_code == 201, response.json()
    service = Service.objects.get(pk=response.json()["id"])
    assert service.business == business
    assert list(service.branches.all()) == [branch]
    assert response.json()["price"] == {"amount": 5000, "currency": "SAR"}


def test_a_service_naming_another_business_branch_is_refused_and_not_created(mc, other):
    foreign = Branch.objects.get(business=other)
    body = {
        "name_en": "Beard",
        "name_ar": "لحية",
        "duration_minutes": 20,
        "price_amount": 5000,
        "branches": [foreign.pk],
    }
    response = mc.post(url("services"), body, format="json")
    assert response.status_code == 400
    assert "branches" in error(response)["fields"]
    assert not Service.objects.filter(name_en="Beard").exists()


def test_service_update_and_validation(mc, service):
    response = mc.patch(url(f"services/{service.pk}"), {"price_amount": 17000, "branches": []}, format="json")
    assert response.status_code == 200
    assert Service.objects.get(pk=service.pk).price_amount == 17000
    bad = mc.patch(url(f"services/{service.pk}"), {"duration_minutes": 1}, format="json")
    assert bad.status_code == 400
    assert "duration_minutes" in error(bad)["fields"]


def test_an_unused_service_is_deleted_and_a_used_one_is_not(mc, service, staff):
    spare = ServiceFactory.create()
    assert mc.delete(url(f"services/{spare.pk}")).status_code == 204
    assert mc.get(url(f"services/{spare.pk}")).status_code == 404
    assert mc.get(url(f"services/{service.pk}")).json()["id"] == service.pk


def test_service_create_is_idempotent(mc):
    body = {"name_en": "Once", "name_ar": "مرة", "duration_minutes": 30, "price_amount": 100}
    first = mc.post(url("services"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = mc.post(url("services"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Service.objects.filter(name_en="Once").count() == 1


def test_service_list_is_paginated_and_its_queries_bounded(mc, django_assert_max_num_queries, branch):
    for _ in range(8):
        ServiceFactory.create().branches.add(branch)
    with django_assert_max_num_queries(8):
        page = mc.get(url("services") + "?page_size=5").json()
    assert page["count"] == 8
    assert len(page["results"]) == 5
    assert page["results"][0]["branches"] == [branch.pk]


# --- staff ---------------------------------------------------------------------------------------------------


def test_staff_create_by_phone(mc, business, branch, service):
    body = {"phone": "0551234567", "name": "Noura", "branch": branch.pk, "services": [service.pk], "bio": "Colour"}
    response = mc.post(url("staff"), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+966551234567"
    staff = Staff.objects.get(pk=response.json()["id"])
    assert (staff.business, staff.branch, staff.display_name) == (business, branch, "Noura")
    assert list(staff.services.all()) == [service]
    assert Membership.objects.get(business=business, user=staff.user).role == Membership.Role.STAFF
    assert staff.user.role == User.Role.STAFF


def test_a_person_is_staff_at_one_business_at_most(mc, branch, other):
    elsewhere = Staff.objects.get(business=other)
    response = mc.post(
        url("staff"), {"phone": str(elsewhere.user.phone), "name": "X", "branch": branch.pk}, format="json"
    )
    assert response.status_code == 409
    assert error(response)["code"] == "already_staff"
    assert not Membership.objects.filter(user=elsewhere.user, business__slug="salon").exists()


def test_staff_with_another_business_branch_or_service_is_refused(mc, branch, staff, other):
    foreign_branch = Branch.objects.get(business=other)
    foreign_service = Service.objects.get(business=other)
    response = mc.post(url("staff"), {"phone": "0551234567", "name": "N", "branch": foreign_branch.pk}, format="json")
    assert response.status_code == 400
    assert "branch" in error(response)["fields"]
    moved = mc.patch(url(f"staff/{staff.pk}"), {"services": [foreign_service.pk]}, format="json")
    assert moved.status_code == 400
    assert "services" in error(moved)["fields"]
    assert not staff.services.filter(pk=foreign_service.pk).exists()
    assert not User.objects.filter(phone="+966551234567").exists()


def test_staff_update_and_delete(mc, business, service):
    second = BranchFactory.create(business=business)
    member = StaffFactory.create()
    response = mc.patch(url(f"staff/{member.pk}"), {"branch": second.pk, "display_name": "Sara"}, format="json")
    assert response.status_code == 200, response.json()
    member.refresh_from_db()
    assert (member.branch, member.display_name) == (second, "Sara")
    assert mc.delete(url(f"staff/{member.pk}")).status_code == 204
    assert not Staff.objects.filter(pk=member.pk).exists()
    assert not Membership.objects.filter(business=business, user=member.user).exists()


# --- weekly hours and time off --------------------------------------------------------------------------------


def test_weekly_hours_are_replaced(mc, staff):
    hours = [
        {"weekday": 0, "start_time": "09:00", "end_time": "12:00"},
        {"weekday": 0, "start_time": "13:00", "end_time": "18:00"},
        {"weekday": 2, "start_time": "10:00", "end_time": "14:00"},
    ]
    response = mc.put(url(f"staff/{staff.pk}/hours"), {"hours": hours}, format="json")
    assert response.status_code == 200, response.json()
    rows = list(WorkingHours.objects.filter(staff=staff).values_list("weekday", "start_time", "end_time"))
    assert rows == [(0, time(9), time(12)), (0, time(13), time(18)), (2, time(10), time(14))]
    assert mc.get(url(f"staff/{staff.pk}/hours")).json()["hours"][1]["start_time"] == "13:00:00"


@pytest.mark.parametrize(
    "hours",
    [
        [{"weekday": 0, "start_time": "12:00", "end_time": "09:00"}],
        [
            {"weekday": 0, "start_time": "09:00", "end_time": "12:00"},
            {"weekday": 0, "start_time": "11:00", "end_time": "13:00"},
        ],
        [{"weekday": 7, "start_time": "09:00", "end_time": "12:00"}],
    ],
    ids=["reversed", "overlapping", "no-such-weekday"],
)
def test_bad_weekly_hours_are_a_400_and_change_nothing(mc, staff, hours):
    before = WorkingHours.objects.filter(staff=staff).count()
    response = mc.put(url(f"staff/{staff.pk}/hours"), {"hours": hours}, format="json")
    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert WorkingHours.objects.filter(staff=staff).count() == before > 0


def test_time_off_is_given_listed_and_removed(mc, staff, at):
    body = {"start": at("12:00").isoformat(), "end": at("15:00").isoformat(), "reason": "Doctor"}
    response = mc.post(url(f"staff/{staff.pk}/time-off"), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start"] == at("12:00").isoformat()
    exception = ScheduleException.objects.get(pk=response.json()["id"])
    assert (exception.start, exception.kind) == (at("12:00"), ScheduleException.Kind.TIME_OFF)
    assert mc.get(url(f"staff/{staff.pk}/time-off")).json()["count"] == 1
    assert mc.delete(url(f"staff/{staff.pk}/time-off/{exception.pk}")).status_code == 204
    assert not ScheduleException.objects.filter(pk=exception.pk).exists()


def test_time_off_without_an_offset_is_a_400(mc, staff, at):
    body = {"start": at("12:00").replace(tzinfo=None).isoformat(), "end": at("15:00").isoformat()}
    response = mc.post(url(f"staff/{staff.pk}/time-off"), body, format="json")
    assert response.status_code == 400
    assert "start" in error(response)["fields"]


# --- closures ------------------------------------------------------------------------------------------------


def test_closures_of_the_business_and_of_a_branch(mc, business, branch, day):
    whole = mc.post(url("closures"), {"name": "Eid", "start_date": str(day), "end_date": str(day)}, format="json")
    assert whole.status_code == 201, whole.json()
    assert whole.json()["branch"] is None
    one = mc.post(
        url("closures"),
        {"name": "Works", "branch": branch.pk, "start_date": str(day), "end_date": str(day)},
        format="json",
    )
    assert one.json()["branch"] == branch.pk
    assert Closure.objects.filter(business=business).count() == 2
    patched = mc.patch(url(f"closures/{one.json()['id']}"), {"name": "Renovation"}, format="json")
    assert patched.json() == {**one.json(), "name": "Renovation"}
    assert mc.delete(url(f"closures/{whole.json()['id']}")).status_code == 204


def test_a_closure_ending_before_it_starts_or_at_another_business_branch_is_a_400(mc, day, other):
    reversed_ = {"name": "X", "start_date": str(day), "end_date": str(day - timedelta(days=1))}
    assert mc.post(url("closures"), reversed_, format="json").status_code == 400
    foreign = Branch.objects.get(business=other)
    response = mc.post(
        url("closures"),
        {"name": "X", "branch": foreign.pk, "start_date": str(day), "end_date": str(day)},
        format="json",
    )
    assert response.status_code == 400
    assert "branch" in error(response)["fields"]
    assert not Closure.objects.exists()


# --- policies -------------------------------------------------------------------------------------------------


def test_policies_are_read_and_changed_but_not_the_platform_fields(mc, business):
    assert mc.get(url("policies")).json()["min_notice_minutes"] == 120
    response = mc.patch(
        url("policies"),
        {"min_notice_minutes": 60, "description_en": "Cuts", "commission_bps": 0, "slug": "mine"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    business.refresh_from_db()
    assert (business.min_notice_minutes, business.description_en, business.slug) == (60, "Cuts", "salon")
    Business.objects.filter(pk=business.pk).update(commission_bps=250)
    mc.patch(url("policies"), {"commission_bps": 0}, format="json")
    assert Business.objects.get(pk=business.pk).commission_bps == 250


def test_the_staff_agenda_time_is_a_policy_and_empty_means_the_platform_s(mc, business):
    assert mc.get(url("policies")).json()["staff_agenda_time"] is None
    later = mc.patch(url("policies"), {"staff_agenda_time": "14:00"}, format="json")
    assert later.status_code == 200, later.json()
    assert later.json()["staff_agenda_time"] == "14:00:00"
    business.refresh_from_db()
    assert business.staff_agenda_time == time(14, 0)
    bad = mc.patch(url("policies"), {"staff_agenda_time": "25:00"}, format="json")
    assert bad.status_code == 400
    assert "staff_agenda_time" in error(bad)["fields"]
    assert mc.patch(url("policies"), {"staff_agenda_time": None}, format="json").status_code == 200
    business.refresh_from_db()
    assert business.staff_agenda_time is None


def test_bad_policies_are_a_400(mc):
    response = mc.patch(url("policies"), {"timezone": "Mars/Olympus", "vat_number": "12"}, format="json")
    assert response.status_code == 400
    assert {"timezone", "vat_number"} <= set(error(response)["fields"])
    nested = mc.patch(url("policies"), {"service_area": [{"city": "Riyadh"}]}, format="json")
    assert nested.status_code == 400
    assert "service_area" in error(nested)["fields"]


# --- time off requests ----------------------------------------------------------------------------------------


def _ask(auth_client, staff, at, hours=("12:00", "15:00")):
    body = {"start": at(hours[0]).isoformat(), "end": at(hours[1]).isoformat(), "reason": "Family"}
    return auth_client(staff.user).post("/api/v1/manage/me/time-off", body, format="json")


def test_a_requested_time_off_blocks_nothing_until_approved(mc, auth_client, staff, at, day, business):
    asked = _ask(auth_client, staff, at)
    assert asked.status_code == 201, asked.json()
    assert asked.json()["status"] == "requested"
    schedule = staff_schedules(staff_ids=[staff.pk], date_from=day, date_to=day, business=business)[staff.pk]
    assert schedule.time_off == ()
    listed = mc.get(url("time-off-requests") + "?status=requested").json()
    assert [row["id"] for row in listed["results"]] == [asked.json()["id"]]

    approved = mc.post(url(f"time-off-requests/{asked.json()['id']}/approve"), {"note": "ok"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    request = TimeOffRequest.objects.get(pk=asked.json()["id"])
    assert request.time_off is not None
    assert (request.time_off.start, request.time_off.end) == (at("12:00"), at("15:00"))
    schedule = staff_schedules(staff_ids=[staff.pk], date_from=day, date_to=day, business=business)[staff.pk]
    assert len(schedule.time_off) == 1
    assert auth_client(staff.user).get("/api/v1/manage/me/time-off").json()["results"][0]["status"] == "approved"


def test_a_declined_request_stays_declined(mc, auth_client, staff, at):
    asked = _ask(auth_client, staff, at).json()
    declined = mc.post(url(f"time-off-requests/{asked['id']}/decline"), {}, format="json")
    assert declined.json()["status"] == "declined"
    again = mc.post(url(f"time-off-requests/{asked['id']}/approve"), {}, format="json")
    assert again.status_code == 409
    assert error(again)["code"] == "time_off_request_decided"
    assert not ScheduleException.objects.filter(staff=staff).exists()


def test_staff_cannot_approve_their_own_request(auth_client, staff, at):
    asked = _ask(auth_client, staff, at).json()
    response = auth_client(staff.user).post(url(f"time-off-requests/{asked['id']}/approve"), {}, format="json")
    assert response.status_code == 403
    assert TimeOffRequest.objects.get(pk=asked["id"]).status == "requested"


def test_a_reversed_request_is_a_400_and_someone_without_a_staff_profile_gets_404(auth_client, staff, at, owner):
    assert _ask(auth_client, staff, at, ("15:00", "12:00")).status_code == 400
    assert auth_client(owner).get("/api/v1/manage/me/time-off").status_code == 404
    assert not TimeOffRequest.objects.exists()


def test_the_served_schema_lists_every_manager_operation():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = {path: item for path, item in schema["paths"].items() if path.startswith("/api/v1/manage/")}
    # 21 catalog (2 public holidays, 4 seasonal hours), 7 bookings, 3 of a staff member's own (schedule, time off, calendar feed), 1
    # settlement statement and 1 venue payments (payments), 3 invoices (a period's list and its CSV and zip exports:
    # invoicing), 1 tax profile (invoicing), 1 waitlist (waitlist)
    assert len(paths) == 38, sorted(paths)
    operation_ids = [op["operationId"] for item in paths.values() for m, op in item.items() if m != "parameters"]
    assert all(op_id.startswith("manage_") for op_id in operation_ids)
    assert len(operation_ids) == len(set(operation_ids))
    cancel = paths["/api/v1/manage/businesses/{slug}/bookings/{booking_id}/cancel"]["post"]
    assert {"400", "403", "404", "409"} <= set(cancel["responses"])
    assert "time_off_request_decided" in schema["info"]["description"]
    assert "venue_payment_exceeds_due" in schema["info"]["description"]
    venue = paths["/api/v1/manage/businesses/{slug}/bookings/{booking_id}/venue-payments"]
    assert {"get", "post"} <= set(venue)
    assert {"get", "put"} <= set(paths["/api/v1/manage/businesses/{slug}/tax-profile"])
    assert {"get", "post", "delete"} <= set(paths["/api/v1/manage/me/calendar-feed"])
