"""Delivery: send one notification, at most once (runs in the `notification_send` job).

Protocol (`notification_deliver`), per message row, in three steps:
1. claim it under its lock (`_claim`), one short transaction: lock the row (`SELECT ... FOR UPDATE`), skip it
   when it is final, settle an earlier attempt that left it `sending` (`_take_over`), re-check that it is still
   relevant (`_recheck`: the booking is still confirmed, a reminder's booking has not moved, a reschedule notice's
   booking was not cancelled since, ...), re-check the recipient and render it (`_prepare`), mark it `sending`
   with `sending_started_at`, count the attempt and write an attempt record (`_mark_sending`); commit;
2. the provider call (`_call_channel`), outside any transaction and without any lock;
3. record the outcome in a second short transaction: `sent` (`_record_sent`); or (`_record_failure`) `pending`
   again and raise for the job's backoff (timeouts, 5xx, 429), or `failed` / `unknown` when giving up
   (`_failure_status`).

A row found `sending` by a later run belongs to an attempt that is still in flight (younger than
NOTIFICATIONS_SENDING_STALE_SECONDS: try again once it would be stale) or that died with its worker (older: its
outcome is unknown). After such a crash, a channel where a duplicate is acceptable (email, same Message-ID)
sends again; a channel where it is not (SMS) marks the row `unknown` and never sends it again by itself: an
operator may retry it from the admin. See docs/notifications.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.bookings.models import Booking
from apps.catalog.selectors import business_default
from apps.core.logging import request_id_var
from apps.core.masking import mask_phone
from apps.notifications import channels
from apps.notifications.channels import Channel, ChannelError, ChannelRejected, Delivery, Message
from apps.notifications.models import Notification, NotificationAttempt
from apps.notifications.rendering import language_of, render
from apps.notifications.routing import WHATSAPP, wants_whatsapp
from apps.notifications.services.agenda import STAFF_AGENDA, agenda_for
from apps.notifications.services.coalesce import STAFF_CHANGES
from apps.notifications.services.whatsapp import whatsapp_sms_fallback
from apps.notifications.templates import REMINDERS

logger = logging.getLogger("mawid.notifications")

S = Notification.Status
A = NotificationAttempt.Outcome
FINAL: frozenset[str] = frozenset({S.SENT, S.FAILED, S.UNKNOWN, S.SKIPPED, S.CANCELLED})
CONFIRMED = Booking.Status.CONFIRMED
EARLY_TOLERANCE = timedelta(minutes=1)


class DeliveryInFlight(Exception):  # noqa: N818 - a state, not a bug
    """Another attempt marked the row `sending` a moment ago. The job backs off and looks again: by then that
    attempt has recorded its outcome, or its mark has gone stale (it died) and the crash rule applies."""

    retryable = True


class DeliveryGaveUp(Exception):  # noqa: N818
    """The row ended `failed` or `unknown`: the job must not retry (the admin can)."""

    retryable = False


@dataclass(frozen=True)
class _Ready:
    """What the checks under the lock found to send: through which channel, to where, in which language."""

    channel: Channel
    address: str
    message: Message
    language: str


@dataclass(frozen=True)
class _Claim:
    """A row marked `sending` (step 1 has committed): what step 2 sends and step 3 records."""

    notification: Notification
    attempt: NotificationAttempt
    channel: Channel
    address: str
    message: Message
    log: dict[str, Any]


def notification_deliver(*, notification_id: int, job_id: int | None = None) -> str:
    """Send one notification, at most once (see the module doc). Returns the row's status.

    Raises the channel's retryable error (the job retries with backoff), `DeliveryInFlight`, or `DeliveryGaveUp`.
    """
    now = timezone.now()
    claim = _claim(notification_id=notification_id, job_id=job_id, now=now)
    if isinstance(claim, str):
        return claim  # missing, already final, closed without a provider call, or not due yet
    with _request_id(claim.notification.request_id):
        delivery = _call_channel(claim)
        _record_sent(claim, delivery, started=now)
    return S.SENT


@contextmanager
def _request_id(value: str) -> Iterator[None]:
    """Log lines of the job carry the id of the request that caused the message (also after a sweep re-defer)."""
    token = request_id_var.set(value or request_id_var.get())
    try:
        yield
    finally:
        request_id_var.reset(token)


def _mask(channel: str, address: str) -> str:
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_phone(address)


# --- step 1: claim the row under its lock -------------------------------------------------------------------


def _claim(*, notification_id: int, job_id: int | None, now: datetime) -> _Claim | str:
    """One short transaction: lock the row, check that it is to be sent now, mark it `sending` and record the
    attempt. Returns the claim, or the status the row kept or was closed in (nothing to send)."""
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if n is None:
            logger.info("notification_missing", extra={"notification_id": notification_id, "job_id": job_id})
            return "missing"
        log: dict[str, Any] = {
            "notification_id": n.pk,
            "booking_id": n.booking_id,
            "job_id": job_id,
            "channel": n.channel,
            "template": n.template,
        }
        with _request_id(n.request_id):
            ready = _check(n, now=now, log=log)
            if isinstance(ready, str):
                return ready
            attempt = _mark_sending(n, language=ready.language, job_id=job_id, now=now)
    log["attempt"] = attempt.number
    log["to"] = _mask(n.channel, ready.address)
    return _Claim(
        notification=n,
        attempt=attempt,
        channel=ready.channel,
        address=ready.address,
        message=ready.message,
        log=log,
    )


def _check(n: Notification, *, now: datetime, log: dict[str, Any]) -> _Ready | str:
    """Whether the locked row is to be sent now: what to send, or the status it kept or was closed in."""
    if n.status in FINAL:
        logger.info("notification_already_final", extra={**log, "status": n.status})
        return n.status
    channel = channels.get(n.channel)
    if channel is None:
        return _close(n, S.SKIPPED, f"channel {n.channel!r} is not enabled", log)
    if n.status == S.SENDING:
        closed = _take_over(n, channel, now=now, log=log)
        if closed is not None:
            return closed
    if n.status == S.PENDING and n.scheduled_for and now < n.scheduled_for - EARLY_TOLERANCE:
        # A stray early job (a manual defer): the row keeps waiting; the sweep re-schedules it if need be.
        logger.info("notification_not_due_yet", extra=log)
        return n.status
    if n.template == STAFF_AGENDA:  # about a day, not one booking: its bookings as they are now
        context, reason = agenda_for(n, now=now)
        if reason:
            return _close(n, S.SKIPPED, reason, log)
        return _prepare(n, channel, None, log, context=context)
    if n.template == STAFF_CHANGES:  # a summary of changes as they happened (each one a fact, none withdrawn)
        return _prepare(n, channel, None, log)
    booking, reason = _recheck(n, now=now)
    if reason:
        return _close(n, S.SKIPPED, reason, log)
    return _prepare(n, channel, booking, log)


def _take_over(n: Notification, channel: Channel, *, now: datetime, log: dict[str, Any]) -> str | None:
    """The row is `sending`. When that mark is younger than NOTIFICATIONS_SENDING_STALE_SECONDS the attempt is
    still in flight: raise `DeliveryInFlight` (the job looks again later). Older, the attempt died during the
    provider call: its record becomes `interrupted`, and then a channel that is not duplicate-safe closes the
    row `unknown` (returns that status) while a duplicate-safe one sends again (returns None)."""
    stale = timedelta(seconds=settings.NOTIFICATIONS_SENDING_STALE_SECONDS)
    started = n.sending_started_at or n.updated_at
    if now < started + stale:
        logger.info("notification_in_flight", extra=log)
        raise DeliveryInFlight(f"notification {n.pk} is being sent by another attempt")
    NotificationAttempt.objects.filter(notification=n, outcome=A.IN_PROGRESS).update(
        outcome=A.INTERRUPTED, finished_at=now, error="the attempt stopped during the provider call"
    )
    if not channel.duplicate_safe:
        return _close(
            n,
            S.UNKNOWN,
            "an attempt stopped during the provider call (worker crash): the message may have been"
            " delivered, so it is not sent again automatically",
            log,
            level=logging.WARNING,
        )
    logger.warning("notification_resent_after_interruption", extra=log)
    return None


def _recheck(n: Notification, *, now: datetime) -> tuple[Booking | None, str]:
    """Re-read the booking under the row's lock: the booking (None when it is gone) and why the message should no
    longer be sent ("" when it should), e.g. a reschedule notice of a booking cancelled since."""
    booking = (
        Booking.objects.select_related("service", "staff", "customer", "business", "branch")
        .filter(pk=n.booking_id)
        .first()
        if n.booking_id
        else None
    )
    return booking, _not_relevant(n, booking, now)


def _not_relevant(n: Notification, booking: Booking | None, now: datetime) -> str:
    """Why this message should no longer be sent, or "" when it should. Every template speaks of a booking."""
    if booking is None:
        return "the booking no longer exists"
    if n.template in REMINDERS:
        if booking.status != CONFIRMED:
            return f"the booking is {booking.status}"
        start = _parse(n.context.get("start"))
        if start is not None and start != booking.start:
            return "the booking has moved"
        if now >= booking.start - REMINDERS[n.template] / 2:
            return "too late for this reminder"
    elif n.template in ("booking_confirmed", "staff_booking_new"):
        if booking.status != CONFIRMED:
            return f"the booking is {booking.status}"
        if now >= booking.end:
            return "the booking is over"
    elif n.template == "waitlist_offer":
        # The hold of a waitlist offer: only while it still waits for the customer's claim.
        if booking.status != Booking.Status.PENDING_PAYMENT:
            return f"the booking is {booking.status}"
        if booking.hold_expires_at is not None and now >= booking.hold_expires_at:
            return "the offer's claim window has ended"
    elif n.template in ("booking_rescheduled", "staff_booking_changed"):
        if booking.status != CONFIRMED:
            return f"the booking is {booking.status}"
        new_start = _parse(n.context.get("new_start"))
        if new_start is not None and new_start != booking.start:
            return "the booking has moved again (a newer notice says so)"
    return ""


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def _prepare(
    n: Notification,
    channel: Channel,
    booking: Booking | None,
    log: dict[str, Any],
    *,
    context: dict[str, Any] | None = None,
) -> _Ready | str:
    """Re-check the recipient (active, opted in, has an address) and render the message in their language
    (from `context` when given, else the row's)."""
    user = n.recipient
    if n.channel == WHATSAPP:
        business_channel = booking.business.default_notify_channel if booking else ""
        chosen = wants_whatsapp(user, template=n.template, business_channel=business_channel)
    else:
        chosen = channel.opted_in(user)
    if not user.is_active or not chosen:
        closed = _close(n, S.SKIPPED, f"the recipient turned {n.channel} notifications off", log)
        if n.channel == WHATSAPP and user.is_active:
            # Planned as WhatsApp instead of SMS, then WhatsApp was turned off (or STOP): the SMS goes instead.
            whatsapp_sms_fallback(notification_id=n.pk, reason="WhatsApp turned off")
        return closed
    address = channel.address(user)
    if not address:
        return _close(n, S.SKIPPED, f"the recipient has no {n.channel} address", log)
    language = language_of(user)
    try:
        message = render(
            template=n.template,
            language=language,
            context=n.context if context is None else context,
            recipient=user,
            booking=booking,
            business=n.business if n.business_id else booking.business if booking else business_default(),
            reference=n.reference,
            channel=n.channel,
        )
    except Exception as exc:  # a template bug must not leave the row pending forever
        logger.exception("notification_render_failed", extra=log)
        return _close(n, S.FAILED, f"could not render the message: {type(exc).__name__}", log)
    return _Ready(channel=channel, address=address, message=message, language=language)


def _mark_sending(n: Notification, *, language: str, job_id: int | None, now: datetime) -> NotificationAttempt:
    """Mark the locked row `sending`, count the attempt and write its record."""
    n.status = S.SENDING
    n.sending_started_at = now
    n.attempts += 1
    n.language = language
    n.updated_at = now
    n.save(update_fields=["status", "sending_started_at", "attempts", "language", "updated_at"])
    number = NotificationAttempt.objects.filter(notification=n).count() + 1
    return NotificationAttempt.objects.create(notification=n, number=number, job_id=job_id, started_at=now)


def _close(n: Notification, status: str, reason: str, log: dict[str, Any], *, level: int = logging.INFO) -> str:
    """End a locked row in `status` without calling the provider."""
    n.status = status
    n.last_error = reason[:500]
    n.updated_at = timezone.now()
    n.save(update_fields=["status", "last_error", "updated_at"])
    logger.log(level, "notification_%s", status, extra={**log, "reason": reason})
    return status


# --- step 2: the provider call, outside any transaction ----------------------------------------------------


def _call_channel(claim: _Claim) -> Delivery:
    """Hand the message to the channel. No lock is held while the provider takes its time. A failure is recorded
    (step 3) and raised."""
    n, channel, log = claim.notification, claim.channel, claim.log
    try:
        return channel.send(to=claim.address, message=claim.message)
    except ChannelError as exc:
        _record_failure(n.pk, claim.attempt.pk, channel, exc, log)
    except Exception as exc:  # a bug in a channel: the call may or may not have gone out
        logger.exception("notification_channel_crashed", extra=log)
        failure = ChannelRejected(f"{type(exc).__name__} in the {channel.name} channel", uncertain=True)
        _record_failure(n.pk, claim.attempt.pk, channel, failure, log)


# --- step 3: record the outcome -----------------------------------------------------------------------------


def _record_sent(claim: _Claim, delivery: Delivery, *, started: datetime) -> None:
    """The row becomes `sent` (unless something else settled it meanwhile) and the attempt record says so."""
    finished = timezone.now()
    with transaction.atomic():
        Notification.objects.filter(pk=claim.notification.pk, status=S.SENDING).update(
            status=S.SENT,
            sent_at=finished,
            provider_message_id=delivery.provider_message_id[:255],
            last_error="",
            updated_at=finished,
        )
        NotificationAttempt.objects.filter(pk=claim.attempt.pk).update(outcome=A.SENT, finished_at=finished)
    duration_ms = round((finished - started).total_seconds() * 1000)
    logger.info("notification_sent", extra={**claim.log, "duration_ms": duration_ms})


def _record_failure(
    notification_id: int, attempt_id: int, channel: Channel, exc: ChannelError, log: dict[str, Any]
) -> NoReturn:
    """Record a failed attempt, then raise: the channel error to retry, `DeliveryGaveUp` when giving up."""
    now = timezone.now()
    maybe_sent = exc.uncertain and not channel.duplicate_safe
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=notification_id)
        outcome = A.UNCERTAIN if exc.uncertain else (A.ERROR if exc.retryable else A.REJECTED)
        NotificationAttempt.objects.filter(pk=attempt_id).update(outcome=outcome, error=str(exc)[:500], finished_at=now)
        uncertain = NotificationAttempt.objects.filter(
            notification_id=notification_id, outcome__in=[A.UNCERTAIN, A.INTERRUPTED]
        ).count()
        status = _failure_status(exc, maybe_sent=maybe_sent, uncertain=uncertain, attempts=n.attempts)
        if n.status == S.SENDING:
            n.status = status
            n.last_error = str(exc)[:500]
            n.updated_at = now
            n.save(update_fields=["status", "last_error", "updated_at"])
    extra = {**log, "error": type(exc).__name__, "uncertain": exc.uncertain, "status": status}
    if status == S.PENDING:
        logger.warning("notification_attempt_failed", extra=extra)
        raise exc
    logger.error("notification_gave_up", extra=extra)
    if status == S.FAILED and channel.name == WHATSAPP:
        whatsapp_sms_fallback(notification_id=notification_id, reason=str(exc))
    raise DeliveryGaveUp(f"notification {notification_id} ended {status}: {exc}") from exc


def _failure_status(exc: ChannelError, *, maybe_sent: bool, uncertain: int, attempts: int) -> str:
    """The row's status after a failed attempt: `pending` to try again, or `failed` / `unknown` to give up.

    `maybe_sent`: the attempt may have delivered (an uncertain error) on a channel that is not duplicate-safe;
    such a row never ends `failed`, only `unknown`. The uncertain-retry rule: once more than
    NOTIFICATIONS_UNCERTAIN_RETRIES attempts of the row were uncertain or interrupted (`uncertain`), a maybe-sent
    row is not tried again. Otherwise a retryable error is retried until NOTIFICATIONS_MAX_ATTEMPTS attempts.
    """
    if not exc.retryable:
        return S.UNKNOWN if maybe_sent else S.FAILED
    if maybe_sent and uncertain > settings.NOTIFICATIONS_UNCERTAIN_RETRIES:
        return S.UNKNOWN
    if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        return S.UNKNOWN if maybe_sent else S.FAILED
    return S.PENDING
