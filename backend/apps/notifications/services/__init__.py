"""Notifications services: every write about notifications goes through here (see docs/notifications.md).

planning.py  events -> notification rows -> deferred send jobs, in the publisher's transaction; withdrawing them
delivery.py  send one (the `notification_send` job): claim under lock, call the channel outside any
             transaction, record the outcome
agenda.py    staff: the morning agenda (the `staff_agendas` job) and which booking changes are told at once
coalesce.py  staff: changes within minutes of the last notice go out together (`staff_changes`)
repair.py    the periodic sweep (missing reminders, rows whose job is gone) and the operator's retry
"""

from apps.notifications.services.agenda import (
    STAFF_AGENDA,
    agenda_for,
    staff_agendas_create,
    staff_change_is_urgent,
)
from apps.notifications.services.coalesce import STAFF_CHANGES, staff_notice_plans
from apps.notifications.services.delivery import DeliveryGaveUp, DeliveryInFlight, notification_deliver
from apps.notifications.services.planning import (
    Plan,
    notifications_cancel,
    notifications_create,
    reminder_key,
    reminder_plans,
)
from apps.notifications.services.repair import RETRYABLE_BY_HAND, notification_retry, notifications_sweep

__all__ = [
    "RETRYABLE_BY_HAND",
    "STAFF_CHANGES",
    "STAFF_AGENDA",
    "DeliveryGaveUp",
    "DeliveryInFlight",
    "Plan",
    "agenda_for",
    "notification_deliver",
    "notification_retry",
    "notifications_cancel",
    "notifications_create",
    "notifications_sweep",
    "reminder_key",
    "reminder_plans",
    "staff_agendas_create",
    "staff_change_is_urgent",
    "staff_notice_plans",
]
