from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from apps.bookings.hooks import payment_summary_source
        from apps.payments.selectors import payment_summaries
        from apps.payments.services.booking_events import subscribe

        # Booking changes void, capture or refund payments (jobs deferred in the booking's transaction).
        subscribe()
        # Booking JSON shows `"payment": {...}` (one query per page).
        payment_summary_source.register(payment_summaries)
