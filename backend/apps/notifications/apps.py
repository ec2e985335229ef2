from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from apps.notifications import checks, subscribers  # noqa: F401 - checks register themselves

        # Nobody imports notifications: it listens to the events bookings and payments publish.
        subscribers.connect()
        # The daily retention job blanks old messages' contents (apps/notifications/retention.py).
        from apps.core.retention import rules
        from apps.notifications.retention import MESSAGE_BODIES

        rules.register(MESSAGE_BODIES)

        from apps.notifications import personal_data

        personal_data.declare()

