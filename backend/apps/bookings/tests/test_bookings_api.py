"""The bookings HTTP API: status, body, database state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.hooks import payment_summary_source
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.tests.factories import ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/bookings"
S = Booking.Status


def _book(client, staff, service, start, **extra):
    return client.post(
        URL, {"staff": staff.pk, "service": service.pk, "start": start.isoformat(), **extra}, format="json"
    )


# --- create -----------------------------------------------------------------------------------------------


def test_post_bookings_creates_a_held_booking(auth_client, customer, staff, service, at):
    with payment_summary_source.override(None):
        response = _book(auth_client(customer), staff, service, at("10:00"), notes="first visit")

    assert response.status_code == 201, response.json()
    body = response.json()
    booking = Booking.objects.get()
    assert body["id"] == booking.pk
    assert body["status"] == "pending_payment"
    assert (body["staff"], body["service"], body["customer"]) == (staff.pk, service.pk, customer.pk)
    assert body["start"] == at("10:00").strftime("%Y-%m-%dT10:00:00+03:00")
    assert body["end"] == at("10:00").strftime("%Y-%m-%dT10:30:00+03:00")
    assert body["price"] == {"amount": 15000, "currency": "SAR"}
    assert body["notes"] == "first visit"
    assert body["hold_expires_at"].endswith("+03:00")
    assert body["payment"] is None
    assert body["created_at"].endswith("+03:00")


def test_post_bookings_ignores_a_price_or_end_sent_by_the_client(auth_client, customer, staff, service, at):
    response = _book(
        auth_client(customer),
        staff,
        service,
        at("10:00"),
        price={"amount": 1, "currency": "SAR"},
        end=at("12:00").isoformat(),
        status="confirmed",
    )

    assert response.status_code == 201
    assert response.json()["price"]["amount"] == 15000
    assert response.json()["status"] == "pending_payment"
    assert Booking.objects.get().end == at("10:30")


def test_post_bookings_answers_409_slot_unavailable_when_taken(auth_client, customer, staff, service, at):
    BookingFactory(staff=staff, service=service, start=at("10:00"))

    response = _book(auth_client(customer), staff, service, at("10:15"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"
    assert Booking.objects.count() == 1


def test_post_bookings_answers_409_for_a_time_not_offered(auth_client, customer, staff, service, at):
    response = _book(auth_client(customer), staff, service, at("20:00"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        # No staff member is "anyone" now (test_booking_anyone); a branch that is not the business's is refused.
        ({"service": "SERVICE", "start": "START", "branch": 999999}, "branch"),
        ({"staff": "STAFF", "service": "SERVICE", "start": "START", "branch": 999999}, "branch"),
        ({"staff": 999999, "service": "SERVICE", "start": "START"}, "staff"),
        ({"staff": "STAFF", "service": 999999, "start": "START"}, "service"),
        ({"staff": "STAFF", "service": "SERVICE", "start": "tomorrow"}, "start"),
        ({"staff": "STAFF", "service": "SERVICE", "start": "NAIVE"}, "start"),
    ],
)
def test_post_bookings_validates_its_input(auth_client, customer, staff, service, at, payload, field):
    values = {
        "STAFF": staff.pk,
        "SERVICE": service.pk,
        "START": at("10:00").isoformat(),
        "NAIVE": at("10:00").replace(tzinfo=None).isoformat(),
    }
    data = {key: values.get(value, value) if isinstance(value, str) else value for key, value in payload.items()}

    response = auth_client(customer).post(URL, data, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_post_bookings_refuses_a_service_the_staff_member_does_not_offer(auth_client, customer, staff, at):
    response = _book(auth_client(customer), staff, ServiceFactory(), at("10:00"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "service_not_offered"


def test_post_bookings_refuses_too_many_unpaid_bookings(auth_client, customer, staff, service, at, business):
    business.max_pending_per_customer = 1
    business.save()
    client = auth_client(customer)
    assert _book(client, staff, service, at("10:00")).status_code == 201

    response = _book(client, staff, service, at("11:00"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_pending_bookings"


def test_bookings_need_a_login(api_client, staff, service, at):
    assert _book(api_client, staff, service, at("10:00")).status_code == 401
    assert api_client.get(URL).status_code == 401


# --- idempotency ------------------------------------------------------------------------------------------


def test_same_idempotency_key_twice_gives_one_booking_and_the_same_response(auth_client, customer, staff, service, at):
    client = auth_client(customer)
    body = {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()}

    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1
    from apps.core.models import IdempotencyRecord

    # The record carries the booking's business (the tenant key).
    assert IdempotencyRecord.objects.get(key="k-1").business_id == staff.business_id


def test_reused_idempotency_key_with_another_body_is_409(auth_client, customer, staff, service, at):
    client = auth_client(customer)
    client.post(
        URL,
        {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    response = client.post(
        URL,
        {"staff": staff.pk, "service": service.pk, "start": at("11:00").isoformat()},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Booking.objects.count() == 1


def test_reschedule_is_idempotent(auth_client, customer, staff, service, at):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))
    client = auth_client(customer)
    url = f"{URL}/{booking.pk}/reschedule"

    first = client.post(url, {"start": at("14:00").isoformat()}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    second = client.post(url, {"start": at("14:00").isoformat()}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    other = client.post(url, {"start": at("15:00").isoformat()}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")

    assert (first.status_code, second.status_code, other.status_code) == (200, 200, 409)
    assert first.json() == second.json()
    assert booking.history.exclude(old_start=None).count() == 1


# --- list and detail --------------------------------------------------------------------------------------


def test_list_shows_each_user_what_they_may_see_newest_first(auth_client, customer, other_customer, manager, service):
    staff_a = StaffFactory(services=[service])
    staff_b = StaffFactory(services=[service])
    mine_old = BookingFactory(customer=customer, staff=staff_a, service=service)
    theirs = BookingFactory(customer=other_customer, staff=staff_b, service=service)
    mine_new = BookingFactory(
        customer=customer, staff=staff_b, service=service, start=timezone.now() + timedelta(days=4)
    )

    def ids(user: User, query: str = "") -> list[int]:
        response = auth_client(user).get(URL + query)
        assert response.status_code == 200
        return [b["id"] for b in response.json()["results"]]

    assert ids(customer) == [mine_new.pk, mine_old.pk]
    assert ids(other_customer) == [theirs.pk]
    assert ids(staff_a.user) == [mine_old.pk]
    assert ids(staff_b.user) == [mine_new.pk, theirs.pk]
    assert ids(manager) == [mine_new.pk, theirs.pk, mine_old.pk]
    # filters narrow what one may see, never widen it
    assert ids(customer, f"?staff={staff_b.pk}") == [mine_new.pk]
    assert ids(other_customer, f"?staff={staff_a.pk}") == []
    assert ids(staff_a.user, f"?staff={staff_b.pk}") == []
    assert ids(manager, f"?staff={staff_a.pk}") == [mine_old.pk]


def test_list_filters_by_status_and_local_date(auth_client, customer, staff, service, at, day):
    today = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))
    cancelled = BookingFactory(customer=customer, staff=staff, service=service, start=at("11:00"), status=S.CANCELLED)
    # 00:30 in Riyadh on the next day is still the previous day in UTC
    tomorrow = BookingFactory(customer=customer, staff=staff, service=service, start=at("00:30", days=1))
    client = auth_client(customer)

    def ids(query: str) -> set[int]:
        return {b["id"] for b in client.get(URL + query).json()["results"]}

    assert ids("?status=cancelled") == {cancelled.pk}
    assert ids("?status=confirmed,cancelled") == {today.pk, cancelled.pk, tomorrow.pk}
    assert ids(f"?date_from={day}&date_to={day}") == {today.pk, cancelled.pk}
    assert ids(f"?date_from={day + timedelta(days=1)}") == {tomorrow.pk}
    assert client.get(URL + "?status=nope").status_code == 400
    assert client.get(URL + f"?date_from={day}&date_to={day - timedelta(days=1)}").status_code == 400


def test_list_is_paginated_with_a_bounded_number_of_queries(
    auth_client, manager, staff, service, django_assert_max_num_queries
):
    for _ in range(30):
        BookingFactory(staff=staff, service=service, customer=UserFactory())
    calls: list[list[int]] = []

    def summaries(booking_ids: list[int]) -> dict[int, dict]:
        calls.append(booking_ids)
        rows = Booking.objects.filter(pk__in=booking_ids).values_list("pk", flat=True)  # one query, like payments
        return {pk: {"status": "paid"} for pk in rows}

    client = auth_client(manager)
    # 6 for bookings and payments' summary, 1 for the balance (payments' one query: paid online, at the venue)
    with payment_summary_source.override(summaries), django_assert_max_num_queries(7):
        response = client.get(URL + "?page_size=25")

    body = response.json()
    assert (body["count"], len(body["results"])) == (30, 25)
    assert body["next"] is not None
    assert all(b["payment"] == {"status": "paid"} for b in body["results"])
    assert [len(ids) for ids in calls] == [25]


def test_detail_shows_a_booking_to_those_who_may_see_it(auth_client, customer, staff, service, manager, at):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))

    for user in (customer, staff.user, manager):
        response = auth_client(user).get(f"{URL}/{booking.pk}")
        assert response.status_code == 200
        assert response.json()["start"].endswith("T10:00:00+03:00")


# --- object permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("post", "/cancel", {}),
        ("post", "/reschedule", {"start": "START"}),
        ("post", "/complete", None),
        ("post", "/no-show", None),
    ],
)
def test_someone_elses_booking_is_404_on_every_endpoint(
    auth_client, customer, other_customer, other_staff, staff, service, at, method, suffix, body
):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))
    if body and "start" in body:
        body = {"start": at("14:00").isoformat()}

    for outsider in (other_customer, other_staff.user):
        response = getattr(auth_client(outsider), method)(f"{URL}/{booking.pk}{suffix}", body, format="json")
        assert response.status_code == 404, (outsider, response.json())
        assert response.json()["error"]["code"] == "not_found"
    missing = getattr(auth_client(customer), method)(f"{URL}/999999{suffix}", body, format="json")
    assert missing.status_code == 404
    booking.refresh_from_db()
    assert (booking.status, booking.start) == (S.CONFIRMED, at("10:00"))


def test_customers_cannot_complete_or_mark_no_show_their_own_booking(auth_client, customer, staff, service):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=timezone.now() - timedelta(hours=1))

    for suffix in ("/complete", "/no-show"):
        response = auth_client(customer).post(f"{URL}/{booking.pk}{suffix}")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


# --- actions ----------------------------------------------------------------------------------------------


def test_cancel_endpoint(auth_client, customer, staff, service, at):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))

    response = auth_client(customer).post(f"{URL}/{booking.pk}/cancel", {"reason": "travel"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "travel")


def test_cancel_after_the_start_is_409_for_the_customer(auth_client, customer, staff, service):
    started = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=started)

    response = auth_client(customer).post(f"{URL}/{booking.pk}/cancel", {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cancellation_window_closed"


def test_cancel_after_the_cutoff_is_allowed_for_the_customer(auth_client, customer, staff, service):
    soon = timezone.now().replace(microsecond=0) + timedelta(hours=5)
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=soon)

    response = auth_client(customer).post(f"{URL}/{booking.pk}/cancel", {}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_reschedule_endpoint_and_its_conflicts(auth_client, customer, staff, service, at):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))
    BookingFactory(staff=staff, service=service, start=at("15:00"))
    client = auth_client(customer)
    url = f"{URL}/{booking.pk}/reschedule"

    moved = client.post(url, {"start": at("14:00").isoformat()}, format="json")
    taken = client.post(url, {"start": at("15:00").isoformat()}, format="json")

    assert moved.status_code == 200
    assert moved.json()["start"].endswith("T14:00:00+03:00")
    assert moved.json()["end"].endswith("T14:30:00+03:00")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "slot_unavailable"


def test_complete_and_no_show_endpoints_for_staff_and_managers(auth_client, staff, other_staff, service, manager):
    past = timezone.now() - timedelta(hours=2)
    first = BookingFactory(staff=staff, service=service, start=past)
    second = BookingFactory(staff=staff, service=service, start=past + timedelta(minutes=30))

    assert auth_client(other_staff.user).post(f"{URL}/{first.pk}/complete").status_code == 404
    done = auth_client(staff.user).post(f"{URL}/{first.pk}/complete")
    no_show = auth_client(manager).post(f"{URL}/{second.pk}/no-show")
    illegal = auth_client(manager).post(f"{URL}/{first.pk}/no-show")

    assert (done.status_code, done.json()["status"]) == (200, "completed")
    assert (no_show.status_code, no_show.json()["status"]) == (200, "no_show")
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "invalid_transition"
    assert illegal.json()["error"]["current_status"] == "completed"


def test_illegal_transitions_answer_409(auth_client, customer, staff, service, at):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"), status=S.EXPIRED)
    client = auth_client(customer)

    cancel = client.post(f"{URL}/{booking.pk}/cancel", {}, format="json")
    move = client.post(f"{URL}/{booking.pk}/reschedule", {"start": at("14:00").isoformat()}, format="json")

    assert (cancel.status_code, move.status_code) == (409, 409)
    assert cancel.json()["error"]["code"] == move.json()["error"]["code"] == "invalid_transition"


# --- the representation -------------------------------------------------------------------------------------


def test_the_written_out_representation_agrees_with_drf_s_field_by_field_one(staff, service, at, business):
    """`BookingSerializer.to_representation` writes the JSON out instead of building its fields for every
    booking; it must say exactly what the declared fields (the documented shape) would."""
    from rest_framework import serializers

    from apps.bookings.api import BookingSerializer

    held = BookingFactory(staff=staff, service=service, start=at("10:00"), status=S.PENDING_PAYMENT, notes="hi")
    held.hold_expires_at = held.start - timedelta(hours=1)
    cancelled = BookingFactory(staff=staff, service=service, start=at("11:00"), status=S.CANCELLED)
    cancelled.cancel_reason = "رحلة"
    confirmed = BookingFactory(staff=staff, service=service, start=at("12:00"))
    contexts = [
        {"tz": business.tz, "payments": {held.pk: {"status": "initiated"}}},
        {"tz": None, "payments": {}},
        {},
    ]
    for booking in (held, cancelled, confirmed):
        for context in contexts:
            serializer = BookingSerializer(booking, context=context)
            by_fields = serializers.Serializer.to_representation(serializer, booking)
            assert serializer.data == by_fields, (booking, context)
    assert set(BookingSerializer(held, context=contexts[0]).data) == set(BookingSerializer().fields)
