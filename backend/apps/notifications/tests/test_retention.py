"""Retention (apps.core.retention, each app's rules; docs/privacy.md, "Retention"): each rule removes exactly what
is due (a row one second younger than its limit stays), in batches, safely while traffic runs, and a dry run
changes nothing. Here in notifications, the top app, because one run crosses every app's rules."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command
from django.db import connection, transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import OtpChallenge, OtpVerifyAttempt
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.core.models import IdempotencyRecord
from apps.core.retention import RetentionReport, retention_run, rules
from apps.core.scoping import platform
from apps.notifications.models import Notification, NotificationAttempt
from apps.payments.models import Payment, WebhookEvent

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def challenge(created_at: datetime, phone: str = "+966500000001") -> OtpChallenge:
    return OtpChallenge.objects.create(
        phone=phone, nonce="n", created_at=created_at, expires_at=created_at + timedelta(minutes=5)
    )


def check(created_at: datetime, *, succeeded: bool) -> OtpVerifyAttempt:
    return OtpVerifyAttempt.objects.create(
        phone="+966500000001", client_key="10.0.0.1", pool="untrusted", succeeded=succeeded, created_at=created_at
    )


def idempotency(user, created_at: datetime, key: str) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(user=user, key=key, scope="POST /x", request_hash="h")
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=created_at)
    return record


def webhook(
    received_at: datetime, *, payment: Payment | None = None, outcome: str = "applied", processed: bool = True
) -> WebhookEvent:
    event = WebhookEvent.objects.create(
        business=payment.business if payment else None,
        event_id=f"evt-{WebhookEvent.objects.count()}-{received_at.timestamp()}",
        type="payment_paid",
        live=False,
        payload={"data": {"source": {"name": "Sara Ali"}, "description": "Booking 7"}},
        payment=payment,
        outcome=outcome,
        processed_at=received_at if processed else None,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=received_at)
    return event


def payment_in(status: str) -> Payment:
    booking: Booking = BookingFactory()  # type: ignore[assignment] # factory_boy returns the model
    captured = 10000 if status in {"captured", "refunded"} else 0
    return Payment.objects.create(
        booking=booking,
        business=booking.business,
        flow=Payment.Flow.TOKEN,
        status=status,
        amount=10000,
        amount_net=10000,
        amount_vat=0,
        authorized_amount=10000,
        captured_amount=captured,
        refunded_amount=captured if status == "refunded" else 0,
    )


def message(created_at: datetime, *, status: str = Notification.Status.SENT, key: str = "k") -> Notification:
    booking: Booking = BookingFactory()  # type: ignore[assignment] # factory_boy returns the model
    notification = Notification.objects.create(
        business=booking.business,
        booking=booking,
        event_key=f"{key}:{booking.pk}",
        template="booking_confirmed",
        recipient=booking.customer,
        channel="sms",
        language="ar",
        status=status,
        provider_message_id="prov-1",
        last_error="timeout talking to +966500000001",
        context={"customer_name": "Sara", "business": "Noor"},
        created_at=created_at,
        updated_at=created_at,
    )
    NotificationAttempt.objects.create(
        business=booking.business, notification=notification, number=1, outcome="error", error="500 for Sara"
    )
    return notification


# -- each rule removes exactly what is due -------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_codes_go_after_a_day_and_a_second_younger_stays(settings):
    settings.RETENTION_OTP_DAYS = 1
    old = challenge(NOW - timedelta(days=1) - SECOND)
    young = challenge(NOW - timedelta(days=1) + SECOND)

    report = retention_run(only={"otp_challenges"})

    assert report.counts == {"otp_challenges": 1}
    assert list(OtpChallenge.objects.values_list("pk", flat=True)) == [young.pk]
    assert not OtpChallenge.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_code_checks_keep_what_the_abuse_limits_read(settings):
    """Failed checks feed the rolling-day cap, successful ones recognise a network for OTP_TRUSTED_NETWORK_DAYS:
    a setting of 0 days does not cut into either window."""
    settings.RETENTION_OTP_DAYS = 0
    settings.OTP_TRUSTED_NETWORK_DAYS = 30
    failed_old = check(NOW - timedelta(days=1) - SECOND, succeeded=False)
    failed_young = check(NOW - timedelta(days=1) + SECOND, succeeded=False)
    ok_old = check(NOW - timedelta(days=30) - SECOND, succeeded=True)
    ok_young = check(NOW - timedelta(days=30) + SECOND, succeeded=True)
    young_code = challenge(NOW - timedelta(hours=23))

    retention_run(only={"otp_checks", "otp_challenges"})

    assert set(OtpVerifyAttempt.objects.values_list("pk", flat=True)) == {failed_young.pk, ok_young.pk}
    assert {failed_old.pk, ok_old.pk}.isdisjoint(OtpVerifyAttempt.objects.values_list("pk", flat=True))
    assert OtpChallenge.objects.filter(pk=young_code.pk).exists()


@pytest.mark.django_db
def test_idempotency_keys_go_after_their_window(settings, make_user):
    settings.RETENTION_IDEMPOTENCY_HOURS = 24
    user = make_user()
    idempotency(user, NOW - timedelta(hours=24) - SECOND, "old")
    young = idempotency(user, NOW - timedelta(hours=24) + SECOND, "young")
    settings.RETENTION_IDEMPOTENCY_HOURS = 1  # never shorter than the replay window

    assert retention_run(only={"idempotency_keys"}).counts == {"idempotency_keys": 1}
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [young.pk]


@pytest.mark.django_db
def test_webhook_payloads_are_blanked_once_settled(settings):
    settings.RETENTION_WEBHOOK_DAYS = 30
    due = NOW - timedelta(days=30) - SECOND
    settled = webhook(due, payment=payment_in(Payment.Status.CAPTURED))
    not_ours = webhook(due, outcome="unknown_payment")
    young = webhook(NOW - timedelta(days=30) + SECOND, payment=payment_in(Payment.Status.REFUNDED))
    open_payment = webhook(due, payment=payment_in(Payment.Status.AUTHORIZED))
    failed = webhook(due, outcome="failed")
    unprocessed = webhook(due, outcome="", processed=False)

    assert retention_run(only={"webhook_payloads"}).counts == {"webhook_payloads": 2}

    blanked = {e.pk for e in WebhookEvent.objects.all() if e.payload == {}}
    assert blanked == {settled.pk, not_ours.pk}
    kept = WebhookEvent.objects.get(pk=settled.pk)
    assert (kept.event_id, kept.type, kept.outcome) == (settled.event_id, "payment_paid", "applied")
    assert {young.pk, open_payment.pk, failed.pk, unprocessed.pk}.isdisjoint(blanked)


@pytest.mark.django_db
def test_message_bodies_are_blanked_and_the_row_stays(settings):
    settings.RETENTION_MESSAGE_DAYS = 90
    old = message(NOW - timedelta(days=90) - SECOND, key="old")
    young = message(NOW - timedelta(days=90) + SECOND, key="young")
    pending = message(NOW - timedelta(days=200), status=Notification.Status.PENDING, key="pending")

    assert retention_run(only={"message_bodies"}).counts == {"message_bodies": 1}

    old.refresh_from_db()
    assert (old.context, old.last_error, old.provider_message_id) == ({}, "", "")
    assert (old.status, old.template, old.channel, old.created_at) == (
        "sent",
        "booking_confirmed",
        "sms",
        NOW - timedelta(days=90) - SECOND,
    )
    assert old.attempt_log.get().error == ""
    for kept in (young, pending):
        kept.refresh_from_db()
        assert kept.context == {"customer_name": "Sara", "business": "Noor"}
        assert kept.attempt_log.get().error == "500 for Sara"
    assert Notification.objects.count() == 3  # delivery history and counts remain


def admin_sign_in(model, at: datetime, username: str = "+966500000001"):
    fields: dict[str, object] = {
        "user_agent": "ua",
        "ip_address": "10.0.0.1",
        "username": username,
        "http_accept": "*/*",
        "path_info": "/admin/login/",
    }
    if model is AccessAttempt:
        fields.update(get_data="", post_data="", failures_since_start=1)
    row = model.objects.create(**fields)
    model.objects.filter(pk=row.pk).update(attempt_time=at)
    return row


def token(user, expires_at: datetime, jti: str) -> OutstandingToken:
    return OutstandingToken.objects.create(user=user, jti=jti, token="t", created_at=expires_at, expires_at=expires_at)


@pytest.mark.django_db
def test_admin_sign_in_records_go_after_their_days_from_every_axes_table(settings):
    settings.RETENTION_ADMIN_LOGIN_DAYS = 30
    limit = NOW - timedelta(days=30)
    old = [admin_sign_in(model, limit - SECOND) for model in (AccessLog, AccessFailureLog, AccessAttempt)]
    young = [
        admin_sign_in(model, limit + SECOND, "+966500000002") for model in (AccessLog, AccessFailureLog, AccessAttempt)
    ]

    assert retention_run(only={"admin_sign_in_records"}, batch_size=1).counts == {"admin_sign_in_records": 3}

    for row in old:
        assert not type(row).objects.filter(pk=row.pk).exists()
    for row in young:
        assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_refresh_token_records_go_a_day_after_they_expire(settings, make_user):
    settings.RETENTION_TOKEN_DAYS = 1
    user = make_user()
    old = token(user, NOW - timedelta(days=1) - SECOND, "old")
    BlacklistedToken.objects.create(token=old)
    young = token(user, NOW - timedelta(days=1) + SECOND, "young")

    assert retention_run(only={"expired_tokens"}).counts == {"expired_tokens": 1}
    assert list(OutstandingToken.objects.values_list("pk", flat=True)) == [young.pk]
    assert BlacklistedToken.objects.count() == 0


# -- in batches, dry run, every rule registered --------------------------------------------------------------------


@pytest.mark.django_db
def test_five_due_rows_go_in_three_batches_of_two():
    for n in range(5):
        challenge(NOW - timedelta(days=2, minutes=n), phone=f"+96650000000{n}")

    report = retention_run(only={"otp_challenges"}, batch_size=2)

    result = report.results["otp_challenges"]
    assert (result.rows, result.batches, result.finished) == (5, 3, True)
    assert OtpChallenge.objects.count() == 0


@pytest.mark.django_db
def test_a_spent_time_budget_stops_the_run_and_the_next_goes_on():
    for n in range(5):
        challenge(NOW - timedelta(days=2, minutes=n), phone=f"+96650000000{n}")

    first = retention_run(only={"otp_challenges"}, batch_size=2, time_budget=0).results["otp_challenges"]

    assert (first.rows, first.batches, first.finished) == (2, 1, False)
    assert OtpChallenge.objects.count() == 3
    assert retention_run(only={"otp_challenges"}, batch_size=2).counts == {"otp_challenges": 3}


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing(make_user):
    challenge(NOW - timedelta(days=2))
    check(NOW - timedelta(days=2), succeeded=False)
    idempotency(make_user(), NOW - timedelta(days=2), "old")
    webhook(NOW - timedelta(days=31), outcome="unknown_payment")
    message(NOW - timedelta(days=91))
    admin_sign_in(AccessLog, NOW - timedelta(days=31))
    token(make_user(), NOW - timedelta(days=2), "old")

    out = StringIO()
    call_command("retention_run", "--dry-run", stdout=out)

    lines = out.getvalue().splitlines()
    for rule in rules.all():
        assert f"{rule.name} ({rule.setting}): 1 due" in lines
    assert "7 row(s) due" in out.getvalue()
    assert OtpChallenge.objects.count() == OtpVerifyAttempt.objects.count() == IdempotencyRecord.objects.count() == 1
    assert WebhookEvent.objects.get().payload != {}
    assert Notification.objects.get().context != {}

    call_command("retention_run", stdout=out)
    assert "7 row(s) purged" in out.getvalue()
    assert OtpChallenge.objects.count() == 0


def test_each_rule_is_registered_once_with_a_setting_that_exists(settings):
    names = [rule.name for rule in rules.all()]
    assert sorted(names) == [
        "admin_sign_in_records",
        "expired_tokens",
        "idempotency_keys",
        "message_bodies",
        "otp_challenges",
        "otp_checks",
        "webhook_payloads",
    ]
    for rule in rules.all():
        assert isinstance(getattr(settings, rule.setting), int), rule.setting


# -- safe while traffic runs ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_purge_neither_waits_for_traffic_nor_removes_what_traffic_writes():
    """A request holds one due code (as a verify does, FOR UPDATE) and inserts a fresh one, in a transaction that
    stays open while the purge runs in another thread: the purge finishes without waiting, skips the held row,
    takes every other due row, and the request's fresh row survives; the next run takes the held one."""
    due = [challenge(NOW - timedelta(days=2, minutes=n), phone=f"+96650000000{n}").pk for n in range(5)]
    held_pk = due[2]
    holding, release = threading.Event(), threading.Event()
    fresh: list[int] = []

    def traffic() -> None:
        try:
            with transaction.atomic():  # the clock fixture's travel holds in every thread
                OtpChallenge.objects.select_for_update().get(pk=held_pk)
                fresh.append(challenge(NOW, phone="+966511111111").pk)
                holding.set()
                release.wait(20)
        finally:
            connection.close()

    outcome: dict[str, RetentionReport] = {}

    def purge() -> None:
        try:
            with platform():
                outcome["report"] = retention_run(only={"otp_challenges"}, batch_size=2)
        finally:
            connection.close()

    request = threading.Thread(target=traffic)
    request.start()
    assert holding.wait(10)
    purger = threading.Thread(target=purge)
    purger.start()
    purger.join(10)
    finished_while_held = not purger.is_alive()
    release.set()
    request.join(10)
    purger.join(10)

    assert finished_while_held  # it did not wait for the request's lock
    assert outcome["report"].counts == {"otp_challenges": 4}
    assert set(OtpChallenge.objects.values_list("pk", flat=True)) == {held_pk, *fresh}
    assert retention_run(only={"otp_challenges"}).counts == {"otp_challenges": 1}
    assert list(OtpChallenge.objects.values_list("pk", flat=True)) == fresh


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_runs_every_rule_in_the_worker():
    from apps.core.jobs import retention_purge
    from apps.core.testing import job_rows, run_jobs

    challenge(NOW - timedelta(days=2))
    young = challenge(NOW - timedelta(hours=1))

    retention_purge.defer(timestamp=int(NOW.timestamp()))
    run_jobs(queues=["maintenance"])

    assert [row["status"] for row in job_rows("apps.core.jobs.retention_purge")] == ["succeeded"]
    assert list(OtpChallenge.objects.values_list("pk", flat=True)) == [young.pk]
