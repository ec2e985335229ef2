from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from apps.bookings.hooks import booking_balance_source, payment_summary_source
        from apps.payments.selectors import booking_balances, payment_summaries
        from apps.payments.services.booking_events import subscribe

        # Booking changes void, capture or refund payments (jobs deferred in the booking's transaction).
        subscribe()
        # Booking JSON shows `"payment": {...}` (one query per page).
        payment_summary_source.register(payment_summaries)
        # Booking JSON shows `"balance": {...}`: paid online, at the venue, due, what a cancellation would keep.
        booking_balance_source.register(booking_balances)
        # The daily retention job blanks settled webhook payloads (apps/payments/retention.py).
        from apps.core.retention import rules
        from apps.payments.retention import WEBHOOK_PAYLOADS

        rules.register(WEBHOOK_PAYLOADS)

        from apps.payments import personal_data

        personal_data.declare()
