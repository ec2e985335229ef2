"""The configured payment gateway (Moyasar's client, or anything implementing the port)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from apps.payments.providers.base import PaymentGateway


def get_gateway(**overrides: Any) -> PaymentGateway:
    """A new client; close it when done (`close_gateway`). Cheap: the TLS context is shared per process.
    `overrides` replace the settings' client options (a request that must answer quickly: `pay_gateway`).

    Refuses to be used inside a transaction: a Moyasar call must never hold row locks while it waits (Record, then
    call: the row commits first, the outcome lands in a second short transaction).
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("Moyasar is called outside transactions only (see docs/payments.md)")
    gateway_class = import_string(settings.PAYMENTS_GATEWAY_CLASS)
    options = {
        "base_url": settings.MOYASAR_BASE_URL,
        "secret_key": settings.MOYASAR_SECRET_KEY,
        "connect_timeout": settings.MOYASAR_CONNECT_TIMEOUT,
        "read_timeout": settings.MOYASAR_READ_TIMEOUT,
        "create_retries": settings.MOYASAR_CREATE_RETRIES,
        "retry_backoff": settings.MOYASAR_RETRY_BACKOFF_SECONDS,
    }
    return gateway_class(**{**options, **overrides})


def pay_gateway() -> PaymentGateway:
    """The client for `POST /pay`, where a customer waits: every call times out after `MOYASAR_PAY_TIMEOUT` (or the
    usual timeouts, if shorter) and no new create attempt starts after it, so the answer comes within about twice
    that; what is not known by then is recovered by a job through the given_id."""
    timeout = min(settings.MOYASAR_PAY_TIMEOUT, settings.MOYASAR_READ_TIMEOUT)
    return get_gateway(
        read_timeout=timeout,
        connect_timeout=min(settings.MOYASAR_CONNECT_TIMEOUT, timeout),
        create_deadline=timeout,
    )


def close_gateway(gateway: PaymentGateway) -> None:
    close = getattr(gateway, "close", None)
    if close is not None:
        close()
