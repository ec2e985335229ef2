"""Unpaid holds expire through the real procrastinate worker, freeing their slots."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from procrastinate.contrib.django import app

from apps.accounts.tests.factories import UserFactory
from apps.bookings.jobs import bookings_expire_holds
from apps.bookings.models import Booking
from apps.bookings.services import booking_confirm, booking_create
from apps.core.testing import run_jobs


def test_the_expiry_job_runs_every_minute():
    periodic = {key[1]: task for key, task in app.periodic_registry.periodic_tasks.items()}

    assert periodic["bookings_expire_holds"].cron == "* * * * *"


@pytest.mark.django_db(transaction=True)
def test_holds_that_ran_out_expire_through_the_job_and_free_the_slot(
    staff, service, customer, at, business, api_client
):
    ran_out = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
    running = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))
    paid = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("12:00"))
    booking_confirm(booking_id=paid.pk)
    Booking.objects.filter(pk__in=[ran_out.pk, paid.pk]).update(hold_expires_at=timezone.now() - timedelta(minutes=1))

    bookings_expire_holds.defer(timestamp=int(time.time()))
    run_jobs(queues=["bookings"])

    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {ran_out.pk: "expired", running.pk: "pending_payment", paid.pk: "confirmed"}
    assert Booking.objects.get(pk=ran_out.pk).history.last().to_status == "expired"
    slots = api_client.get(
        f"/api/v1/staff/{staff.pk}/availability", {"service": service.pk, "date_from": at("10:00").date()}
    ).json()["slots"]
    assert at("10:00").isoformat() in [slot["start"] for slot in slots]
    assert booking_create(customer=UserFactory(), staff_id=staff.pk, service=service, start=at("10:00"))
