from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "apps.invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        from apps.invoicing.subscribers import subscribe

        # Captures, refunds and payments at the venue issue invoices and credit notes in their own transaction.
        subscribe()

        from apps.invoicing import personal_data

        personal_data.declare()
