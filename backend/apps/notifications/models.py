"""One row per message: who gets what, over which channel, about which fact, and what happened to it.

The unique key (event_key, recipient, channel) is what makes delivery idempotent: a fact published twice, or a
job run twice, finds the same row. `event_key` names the message and the fact it reports
(`booking_confirmed:42`, `reminder_2h:42:1796104800`, `payment_receipt:7`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Business, BusinessOwned


class Notification(BusinessOwned):
    """A message about a business's booking carries the business (its managers see it, it is named in the
    message); an account message (none today) would have none."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting for its job (now, or at `scheduled_for`)
        SENDING = "sending", _("Sending")  # an attempt is calling the provider
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")  # permanent error or too many attempts
        UNKNOWN = "unknown", _("Outcome unknown")  # may have been delivered; not sent again automatically
        SKIPPED = "skipped", _("Skipped")  # no longer relevant, recipient opted out, no address, too late
        CANCELLED = "cancelled", _("Cancelled")  # withdrawn before it was due (booking moved or cancelled)

    business = models.ForeignKey(  # type: ignore[assignment] # nullable here
        Business, on_delete=models.PROTECT, related_name="+", verbose_name=_("business"), null=True, blank=True
    )
    business_parent = "booking"
    event_key = models.CharField(_("event key"), max_length=200)
    template = models.CharField(_("template"), max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    channel = models.CharField(_("channel"), max_length=16)
    language = models.CharField(_("language"), max_length=2)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
    )
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    job_id = models.BigIntegerField(_("job id"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    sending_started_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # What the carrier reported after accepting it (WhatsApp status webhooks): sent < delivered < read, or failed
    # (terminal). Never moves backwards: statuses arrive late, twice and out of order.
    # db_default: the planner writes rows with raw SQL that does not name these columns.
    delivery_status = models.CharField(_("delivery status"), max_length=16, blank=True, default="", db_default="")
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    delivery_error = models.CharField(_("delivery error"), max_length=300, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient", "channel"], name="notification_unique_event_recipient_channel"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "scheduled_for"],
                name="notification_open_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["booking", "template"], name="notification_booking_idx"),
            models.Index(fields=["status", "-created_at"], name="notification_status_idx"),
            models.Index(
                fields=["provider_message_id"], name="notification_wamid_idx", condition=Q(channel="whatsapp")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.template} via {self.channel} ({self.status})"

    @property
    def reference(self) -> str:
        """Stable across attempts: the email Message-ID is built from it, so a resend is the same message."""
        return f"notification.{self.pk}"


class NotificationAttempt(BusinessOwned):
    """One provider call for one notification (the audit trail behind `Notification.attempts`)."""

    business = models.ForeignKey(  # type: ignore[assignment] # nullable here
        Business, on_delete=models.PROTECT, related_name="+", verbose_name=_("business"), null=True, blank=True
    )
    business_parent = "notification"

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SENT = "sent", _("Sent")
        ERROR = "error", _("Not delivered, retryable")
        UNCERTAIN = "uncertain", _("May have been delivered")
        REJECTED = "rejected", _("Rejected (permanent)")
        INTERRUPTED = "interrupted", _("Interrupted (worker stopped)")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    job_id = models.BigIntegerField(_("job id"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    error = models.CharField(_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["notification", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class WhatsAppEvent(models.Model):
    """One item of a WhatsApp webhook (a status of one of our messages, or one inbound message), stored once:
    `key` is `status:<wamid>:<status>` or `message:<id>`, so Meta's retries and duplicates are no-ops. Processed by
    the `whatsapp_event_process` job (`processed_at`, `outcome`)."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status")
        MESSAGE = "message", _("Inbound message")

    key = models.CharField(_("key"), max_length=300, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("WhatsApp event")
        verbose_name_plural = _("WhatsApp events")

    def __str__(self) -> str:
        return self.key


class WhatsAppContact(models.Model):
    """A WhatsApp user we talk to (`wa_id`: digits): when they last wrote to us (the 24-hour window for free-form
    replies) and whether they asked to stop WhatsApp messages ("STOP" / "إيقاف")."""

    wa_id = models.CharField(_("WhatsApp id"), max_length=20, unique=True)
    last_inbound_at = models.DateTimeField(_("last message from them"), null=True, blank=True)
    opted_out_at = models.DateTimeField(_("stopped WhatsApp messages at"), null=True, blank=True)

    class Meta:
        verbose_name = _("WhatsApp contact")
        verbose_name_plural = _("WhatsApp contacts")

    def __str__(self) -> str:
        return self.wa_id

    def window_open(self, now: datetime) -> bool:
        return self.last_inbound_at is not None and now < self.last_inbound_at + timedelta(hours=24)
