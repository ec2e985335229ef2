from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from apps.accounts.retention import ADMIN_SIGN_IN_RECORDS, EXPIRED_TOKENS, OTP_CHALLENGES, OTP_CHECKS
        from apps.core.retention import rules

        for rule in (OTP_CHALLENGES, OTP_CHECKS, ADMIN_SIGN_IN_RECORDS, EXPIRED_TOKENS):
            rules.register(rule)  # the daily retention purge (apps/accounts/retention.py, docs/privacy.md)
        from apps.accounts import personal_data

        personal_data.declare()
