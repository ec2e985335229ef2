from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitlistConfig(AppConfig):
    name = "apps.waitlist"
    label = "waitlist"
    verbose_name = _("Waitlist")

    def ready(self) -> None:
        from apps.waitlist.subscribers import connect

        # A freed slot (cancellation, expiry, reschedule) defers the offer job; a claimed hold closes its offer.
        connect()

        from apps.waitlist import personal_data

        personal_data.declare()
