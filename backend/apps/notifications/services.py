"""Writes about notifications: plan them (inside the publisher's transaction), deliver them (in a job), cancel
them, repair them (the sweep) and retry them (admin).

Delivery protocol (`notification_deliver`), per message row:
1. short transaction: lock the row (`SELECT ... FOR UPDATE`), skip it when it is final, re-check that it is still
   relevant (the booking is still confirmed, a reminder's booking has not moved, ...), render it, mark it
   `sending` with `sending_started_at`, count the attempt and write an attempt record; commit;
2. the provider call, outside any transaction and without any lock;
3. second short transaction: record the outcome: `sent`; `pending` again and raise for the job's backoff
   (timeouts, 5xx, 429); or `failed` / `unknown` when giving up.

A row found `sending` by a later run belongs to an attempt that is still in flight (younger than
NOTIFICATIONS_SENDING_STALE_SECONDS: try again once it would be stale) or that died with its worker (older: its
outcome is unknown). After such a crash, a channel where a duplicate is acceptable (email, same Message-ID)
sends again; a channel where it is not (SMS) marks the row `unknown` and never sends it again by itself: an
operator may retry it from the admin. See docs/notifications.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from procrastinate.contrib.django import app as procrastinate_app
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.catalog.models import BusinessSettings
from apps.core.logging import request_id_var
from apps.core.masking import mask_phone
from apps.notifications import channels
from apps.notifications.channels import Channel, ChannelError, ChannelRejected
from apps.notifications.models import Notification, NotificationAttempt
from apps.notifications.rendering import language_of, render
from apps.notifications.templates import REMINDERS

logger = logging.getLogger("mawid.notifications")

S = Notification.Status
A = NotificationAttempt.Outcome
FINAL: frozenset[str] = frozenset({S.SENT, S.FAILED, S.UNKNOWN, S.SKIPPED, S.CANCELLED})
RETRYABLE_BY_HAND: frozenset[str] = frozenset({S.FAILED, S.UNKNOWN})
LIVE_JOB_STATUSES = ("todo", "doing")
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
class Plan:
    """One message to one person about one fact; `notifications_create` turns it into a row per channel."""

    template: str
    recipient: User
    event_key: str
    booking_id: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    scheduled_for: datetime | None = None


# --- planning (runs inside the publisher's transaction) -----------------------------------------------------


def notifications_create(*, plans: Iterable[Plan]) -> list[int]:
    """Write a row per plan and per channel its recipient chose, and defer a job for each new row, all in the
    caller's transaction (three queries whatever the number of rows).

    A row that exists already (same event key, recipient and channel) is left as it is, so a fact published
    twice notifies once; a `cancelled` one is brought back (a booking moved away and back gets its reminders).
    Returns the ids of the rows that got a job.
    """
    now = timezone.now()
    request_id = (request_id_var.get() or "")[:64]
    active = channels.enabled()
    values: list[Any] = []
    count = 0
    for plan in plans:
        user = plan.recipient
        if not user.is_active:
            continue
        context = json.dumps(plan.context, cls=_ContextEncoder)
        for channel in active:
            if not channel.opted_in(user) or not channel.address(user):
                continue
            values += [
                plan.event_key,
                plan.template,
                user.pk,
                channel.name,
                language_of(user),
                plan.booking_id,
                context,
                plan.scheduled_for,
                request_id,
                now,
                now,
            ]
            count += 1
    if not count:
        return []
    table = Notification._meta.db_table
    row = "(%s, %s, %s, %s, %s, 'pending', 0, '', '', %s, %s::jsonb, %s, %s, %s, %s)"
    sql = (
        f"INSERT INTO {table} AS n (event_key, template, recipient_id, channel, language, status, attempts,"  # noqa: S608 - table name from the model, values bound
        " provider_message_id, last_error, booking_id, context, scheduled_for, request_id, created_at, updated_at)"
        f" VALUES {', '.join([row] * count)}"
        " ON CONFLICT (event_key, recipient_id, channel) DO UPDATE SET status = 'pending',"
        " scheduled_for = EXCLUDED.scheduled_for, context = EXCLUDED.context, language = EXCLUDED.language,"
        " last_error = '', job_id = NULL, sending_started_at = NULL, updated_at = EXCLUDED.updated_at"
        " WHERE n.status = 'cancelled'"
        " RETURNING id, scheduled_for"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        created = [(pk, when) for pk, when in cursor.fetchall()]
    _defer(created)
    return [pk for pk, _ in created]


class _ContextEncoder(DjangoJSONEncoder):
    """Like Django's, but times keep their microseconds: a reminder compares its start with the booking's."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def _defer(rows: list[tuple[int, datetime | None]]) -> None:
    """Defer `notification_send` for each (id, when) in one query and remember the job ids on the rows."""
    if not rows:
        return
    from apps.notifications.jobs import notification_send

    now = timezone.now()
    deferrers = [notification_send.configure(schedule_at=when if when and when > now else None) for _, when in rows]
    jobs = [d.make_new_job(notification_id=pk) for d, (pk, _) in zip(deferrers, rows, strict=True)]
    deferred = deferrers[0].job_manager.batch_defer_jobs(jobs=jobs)
    Notification.objects.bulk_update(
        [Notification(pk=pk, job_id=job.id) for (pk, _), job in zip(rows, deferred, strict=True)], ["job_id"]
    )


def notifications_cancel(
    *, booking_id: int, templates: Iterable[str], reason: str, keep_event_keys: Iterable[str] = ()
) -> int:
    """Withdraw the booking's pending messages of `templates` (not those in `keep_event_keys`): the rows become
    `cancelled` and their scheduled jobs are cancelled through procrastinate's job manager. A job that is
    already running finds the row cancelled (or re-checks the booking) and sends nothing."""
    rows = list(
        Notification.objects.select_for_update()
        .filter(booking_id=booking_id, template__in=list(templates), status=S.PENDING)
        .exclude(event_key__in=list(keep_event_keys))
        .values_list("pk", "job_id")
    )
    if not rows:
        return 0
    for _, job_id in rows:
        if job_id:
            procrastinate_app.job_manager.cancel_job_by_id(job_id)
    Notification.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        status=S.CANCELLED, last_error=reason[:500], updated_at=timezone.now()
    )
    logger.info("notifications_cancelled", extra={"booking_id": booking_id, "count": len(rows), "reason": reason})
    return len(rows)


def reminder_key(template: str, booking_id: int, start: datetime) -> str:
    return f"{template}:{booking_id}:{int(start.timestamp())}"


def reminder_plans(booking: Booking, *, now: datetime, templates: Iterable[str] | None = None) -> list[Plan]:
    """The reminders still ahead for `booking` at its current start (none whose time has passed)."""
    plans = []
    for template in templates or REMINDERS:
        at = booking.start - REMINDERS[template]
        if at <= now:
            continue
        plans.append(
            Plan(
                template=template,
                recipient=booking.customer,
                event_key=reminder_key(template, booking.pk, booking.start),
                booking_id=booking.pk,
                context={"start": booking.start},
                scheduled_for=at,
            )
        )
    return plans


# --- delivery (runs in the job) -----------------------------------------------------------------------------


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


def notification_deliver(*, notification_id: int, job_id: int | None = None) -> str:
    """Send one notification, at most once (see the module doc). Returns the row's status.

    Raises the channel's retryable error (the job retries with backoff), `DeliveryInFlight`, or `DeliveryGaveUp`.
    """
    stale = timedelta(seconds=settings.NOTIFICATIONS_SENDING_STALE_SECONDS)
    now = timezone.now()
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
        log = {
            "notification_id": n.pk,
            "booking_id": n.booking_id,
            "job_id": job_id,
            "channel": n.channel,
            "template": n.template,
        }
        with _request_id(n.request_id):
            if n.status in FINAL:
                logger.info("notification_already_final", extra={**log, "status": n.status})
                return n.status
            channel = channels.get(n.channel)
            if channel is None:
                return _close(n, S.SKIPPED, f"channel {n.channel!r} is not enabled", log)
            if n.status == S.SENDING:
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
            if n.status == S.PENDING and n.scheduled_for and now < n.scheduled_for - EARLY_TOLERANCE:
                # A stray early job (a manual defer): the row keeps waiting; the sweep re-schedules it if need be.
                logger.info("notification_not_due_yet", extra=log)
                return n.status
            booking = (
                Booking.objects.select_related("service", "staff", "customer").filter(pk=n.booking_id).first()
                if n.booking_id
                else None
            )
            reason = _not_relevant(n, booking, now)
            if reason:
                return _close(n, S.SKIPPED, reason, log)
            user = n.recipient
            if not user.is_active or not channel.opted_in(user):
                return _close(n, S.SKIPPED, f"the recipient turned {n.channel} notifications off", log)
            address = channel.address(user)
            if not address:
                return _close(n, S.SKIPPED, f"the recipient has no {n.channel} address", log)
            language = language_of(user)
            try:
                message = render(
                    template=n.template,
                    language=language,
                    context=n.context,
                    recipient=user,
                    booking=booking,
                    business=BusinessSettings.load(),
                    reference=n.reference,
                )
            except Exception as exc:  # a template bug must not leave the row pending forever
                logger.exception("notification_render_failed", extra=log)
                return _close(n, S.FAILED, f"could not render the message: {type(exc).__name__}", log)
            n.status = S.SENDING
            n.sending_started_at = now
            n.attempts += 1
            n.language = language
            n.updated_at = now
            n.save(update_fields=["status", "sending_started_at", "attempts", "language", "updated_at"])
            number = NotificationAttempt.objects.filter(notification=n).count() + 1
            attempt = NotificationAttempt.objects.create(notification=n, number=number, job_id=job_id, started_at=now)
    log["attempt"] = number
    log["to"] = _mask(n.channel, address)
    with _request_id(n.request_id):
        try:
            # Outside any transaction: no lock is held while the provider takes its time.
            delivery = channel.send(to=address, message=message)
        except ChannelError as exc:
            _record_failure(n.pk, attempt.pk, channel, exc, log)
        except Exception as exc:  # a bug in a channel: the call may or may not have gone out
            logger.exception("notification_channel_crashed", extra=log)
            failure = ChannelRejected(f"{type(exc).__name__} in the {channel.name} channel", uncertain=True)
            _record_failure(n.pk, attempt.pk, channel, failure, log)
        finished = timezone.now()
        with transaction.atomic():
            Notification.objects.filter(pk=n.pk, status=S.SENDING).update(
                status=S.SENT,
                sent_at=finished,
                provider_message_id=delivery.provider_message_id[:255],
                last_error="",
                updated_at=finished,
            )
            NotificationAttempt.objects.filter(pk=attempt.pk).update(outcome=A.SENT, finished_at=finished)
        logger.info("notification_sent", extra={**log, "duration_ms": round((finished - now).total_seconds() * 1000)})
    return S.SENT


def _close(n: Notification, status: str, reason: str, log: dict[str, Any], *, level: int = logging.INFO) -> str:
    """End a locked row in `status` without calling the provider."""
    n.status = status
    n.last_error = reason[:500]
    n.updated_at = timezone.now()
    n.save(update_fields=["status", "last_error", "updated_at"])
    logger.log(level, "notification_%s", status, extra={**log, "reason": reason})
    return status


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
        if not exc.retryable:
            status = S.UNKNOWN if maybe_sent else S.FAILED
        elif maybe_sent and uncertain > settings.NOTIFICATIONS_UNCERTAIN_RETRIES:
            status = S.UNKNOWN
        elif n.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            status = S.UNKNOWN if maybe_sent else S.FAILED
        else:
            status = S.PENDING
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
    raise DeliveryGaveUp(f"notification {notification_id} ended {status}: {exc}") from exc


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


# --- repair and retry ---------------------------------------------------------------------------------------


def notifications_sweep(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Repair what the event path missed: reminders that should exist and do not, and open rows whose job is
    gone (deleted, cancelled, or finished without settling the row). Idempotent; runs every few minutes."""
    now = now or timezone.now()
    return {
        "reminders_created": _ensure_reminders(now=now),
        "jobs_redeferred": _redefer_lost(now=now, batch=batch),
    }


def _ensure_reminders(*, now: datetime) -> int:
    horizon = now + max(REMINDERS.values()) + timedelta(hours=2)
    bookings = Booking.objects.filter(status=CONFIRMED, start__gt=now, start__lte=horizon)
    missing_any = Q()
    for template, lead in REMINDERS.items():
        exists = Notification.objects.filter(
            booking_id=OuterRef("pk"), template=template, scheduled_for=OuterRef("start") - lead
        )
        bookings = bookings.annotate(**{f"has_{template}": Exists(exists)})
        missing_any |= Q(**{f"has_{template}": False, "start__gt": now + lead})
    created = 0
    for booking_id in bookings.filter(missing_any).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update(of=("self",)).select_related("customer").filter(pk=booking_id).first()
            )
            if booking is None or booking.status != CONFIRMED:
                continue
            created += len(notifications_create(plans=reminder_plans(booking, now=now)))
    if created:
        logger.warning("notifications_sweep_created_reminders", extra={"count": created})
    return created


def _redefer_lost(*, now: datetime, batch: int) -> int:
    live = ProcrastinateJob.objects.filter(id=OuterRef("job_id"), status__in=LIVE_JOB_STATUSES)
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status__in=[S.PENDING, S.SENDING])
            .filter(Q(job_id__isnull=True) | ~Exists(live))
            .order_by("pk")
            .values_list("pk", "status", "attempts", "scheduled_for")[:batch]
        )
        exhausted = [
            pk
            for pk, status, attempts, _ in rows
            if status == S.PENDING and attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
        ]
        if exhausted:
            Notification.objects.filter(pk__in=exhausted).update(
                status=S.FAILED, last_error="too many attempts", updated_at=now
            )
        todo = [(pk, when) for pk, _, _, when in rows if pk not in exhausted]
        _defer(todo)
    for pk, _ in todo:
        logger.warning("notification_job_redeferred", extra={"notification_id": pk})
    return len(todo)


def notification_retry(*, notification_id: int) -> bool:
    """Send a `failed` or `unknown` message again (an operator decided to). False when it is in another state."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None or n.status not in RETRYABLE_BY_HAND:
            return False
        n.status = S.PENDING
        n.attempts = 0
        n.last_error = ""
        n.sending_started_at = None
        n.updated_at = timezone.now()
        n.save(update_fields=["status", "attempts", "last_error", "sending_started_at", "updated_at"])
        _defer([(n.pk, None)])
    logger.info("notification_retried_by_hand", extra={"notification_id": notification_id, "booking_id": n.booking_id})
    return True
