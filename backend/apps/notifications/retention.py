"""Notifications' retention rule: what a message said, blanked after RETENTION_MESSAGE_DAYS (registered in
NotificationsConfig.ready()).

A finished message's rendering context (names, the business, times, amounts, links), its last error text and the
provider's message id are blanked, and so are its attempts' error texts. The row stays: template, channel,
recipient, booking, status and times, so delivery history and counts remain. A message still pending or sending
is never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from apps.core.retention import Rule, blanking_rule, locked_ids
from apps.notifications.models import Notification, NotificationAttempt, WhatsAppEvent

FINISHED = (
    Notification.Status.SENT,
    Notification.Status.FAILED,
    Notification.Status.UNKNOWN,
    Notification.Status.SKIPPED,
    Notification.Status.CANCELLED,
)


def _messages_due(now: datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(
        created_at__lt=now - timedelta(days=settings.RETENTION_MESSAGE_DAYS), status__in=FINISHED
    ).filter(~Q(context={}) | ~Q(last_error="") | ~Q(provider_message_id=""))


def _purge(now: datetime, limit: int) -> int:
    ids = locked_ids(_messages_due(now), limit=limit)
    if ids:
        Notification._base_manager.filter(pk__in=ids).update(context={}, last_error="", provider_message_id="")
        NotificationAttempt._base_manager.filter(notification_id__in=ids).exclude(error="").update(error="")
    return len(ids)


MESSAGE_BODIES = Rule(
    name="message_bodies",
    setting="RETENTION_MESSAGE_DAYS",
    purge=_purge,
    due=lambda now: _messages_due(now).count(),
    description="Messages' rendered context, error texts and provider ids, blanked after RETENTION_MESSAGE_DAYS.",
)


def _whatsapp_events_due(now: datetime) -> QuerySet[WhatsAppEvent]:
    return WhatsAppEvent.objects.filter(
        received_at__lt=now - timedelta(days=settings.RETENTION_MESSAGE_DAYS), processed_at__isnull=False
    ).exclude(payload={})


WHATSAPP_EVENTS = blanking_rule(
    name="whatsapp_events",
    setting="RETENTION_MESSAGE_DAYS",
    due=_whatsapp_events_due,
    values={"payload": {}},
    description="Processed WhatsApp webhook items' payloads (phone numbers, texts), blanked after "
    "RETENTION_MESSAGE_DAYS; the key (the dedup of Meta's retries), kind, outcome and times stay.",
)
