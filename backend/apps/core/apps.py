from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from apps.core.retention import rules
        from apps.core.retention_rules import IDEMPOTENCY_KEYS

        rules.register(IDEMPOTENCY_KEYS)  # each app registers its own retention rules (apps.core.retention)
        from apps.core import personal_data_core

        personal_data_core.declare()
