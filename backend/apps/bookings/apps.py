from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "apps.bookings"
    label = "bookings"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from apps.bookings.selectors import booking_busy_intervals
        from apps.catalog.busy import booked_time

        # Availability sees the time bookings hold; booking and availability then answer alike.
        booked_time.register(booking_busy_intervals)

        from apps.bookings import personal_data

        personal_data.declare()
