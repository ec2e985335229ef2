"""The configured SMS/WhatsApp provider. Accounts owns it; notifications reuses it through this function."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from apps.accounts.providers.base import MessagingProvider


def get_messaging_provider() -> MessagingProvider:
    provider_class = import_string(settings.MESSAGING_PROVIDER_CLASS)
    return provider_class(
        base_url=settings.AUTHENTICA_BASE_URL,
        api_key=settings.AUTHENTICA_API_KEY,
        template_id=settings.AUTHENTICA_TEMPLATE_ID,
        sender_name=settings.AUTHENTICA_SENDER_NAME or None,
        connect_timeout=settings.AUTHENTICA_CONNECT_TIMEOUT,
        read_timeout=settings.AUTHENTICA_READ_TIMEOUT,
    )
