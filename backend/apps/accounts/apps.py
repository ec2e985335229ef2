from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from apps.accounts.retention import OTP_CHALLENGES, OTP_CHECKS
        from apps.core.retention import rules

        rules.register(OTP_CHALLENGES)
        rules.register(OTP_CHECKS)
