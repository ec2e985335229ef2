from __future__ import annotations

from django.conf import settings
from procrastinate import JobContext
from procrastinate.contrib.django import app

from apps.accounts import services
from apps.accounts.providers.base import ProviderError
from apps.core.retry import Backoff

otp_retry = Backoff(max_attempts="OTP_DELIVERY_MAX_ATTEMPTS", retry_exceptions=(ProviderError,), cap_seconds=60)


@app.task(queue="otp", retry=otp_retry, pass_context=True)
def otp_deliver(context: JobContext, *, challenge_id: int) -> None:
    """Deliver a login code. Retries (same code) on provider trouble, never past the code's expiry."""
    attempts = context.job.attempts if context.job else 0
    services.otp_deliver(
        challenge_id=challenge_id,
        final_attempt=attempts + 1 >= settings.OTP_DELIVERY_MAX_ATTEMPTS,
    )
