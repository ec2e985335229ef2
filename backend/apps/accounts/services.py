"""Phone login: request a one-time code, deliver it from a job, verify it, issue tokens.

Codes are made here, not by the provider, so that their length, expiry and attempt limit are ours. A code is
never stored: it is derived from a random per-challenge nonce with a server secret (HMAC-SHA256), and the
comparison is constant-time. Authentica only delivers it (`send-otp` with our `otp`).

Abuse limits (all in PostgreSQL, so every app process shares them and a restart forgets nothing): a resend
cooldown per phone, a cap per phone and one per client IP per rolling hour, at most OTP_MAX_ATTEMPTS wrong
tries per code (then the code is dead), OTP_TTL_SECONDS of validity. Requests for one phone are serialized
with a transaction-level advisory lock, so concurrent requests cannot slip past a limit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.errors import OtpAttemptsExceeded, OtpExpired, OtpInvalid, OtpRateLimited
from apps.accounts.messaging import get_messaging_provider
from apps.accounts.models import OtpChallenge, User
from apps.accounts.providers.base import ProviderConfigurationError, ProviderError
from apps.core.masking import mask_phone

logger = logging.getLogger("mawid.accounts")
HOUR = timedelta(hours=1)


def _advisory_lock(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def otp_code_for(challenge: OtpChallenge) -> str:
    digest = hmac.new(
        settings.OTP_SECRET.encode(), f"otp:{challenge.pk}:{challenge.nonce}".encode(), hashlib.sha256
    ).digest()
    length = settings.OTP_CODE_LENGTH
    return str(int.from_bytes(digest[:8], "big") % 10**length).zfill(length)


def _retry_after(oldest: OtpChallenge | None, now: datetime) -> int:
    if oldest is None:  # gone since it was counted
        return 1
    return max(1, int((oldest.created_at + HOUR - now).total_seconds()) + 1)


@transaction.atomic
def otp_request(*, phone: str, channel: str = OtpChallenge.Channel.SMS, client_ip: str | None = None) -> OtpChallenge:
    """Check the limits, replace any open code for this phone, and defer the delivery job."""
    from apps.accounts.jobs import otp_deliver

    now = timezone.now()
    _advisory_lock(f"otp:phone:{phone}")
    recent = OtpChallenge.objects.filter(phone=phone, created_at__gte=now - HOUR).order_by("-created_at")
    latest = recent.first()
    if latest is not None:
        ready_at = latest.created_at + timedelta(seconds=settings.OTP_RESEND_COOLDOWN_SECONDS)
        if ready_at > now:
            raise OtpRateLimited(retry_after=int((ready_at - now).total_seconds()) + 1)
    count = recent.count()
    if count >= settings.OTP_MAX_PER_PHONE_PER_HOUR:
        oldest = recent.last()
        raise OtpRateLimited(retry_after=_retry_after(oldest, now))
    if client_ip:
        _advisory_lock(f"otp:ip:{client_ip}")
        by_ip = OtpChallenge.objects.filter(client_ip=client_ip, created_at__gte=now - HOUR)
        if by_ip.count() >= settings.OTP_MAX_PER_IP_PER_HOUR:
            oldest_ip = by_ip.order_by("created_at").first()
            raise OtpRateLimited(retry_after=_retry_after(oldest_ip, now))
    OtpChallenge.objects.filter(phone=phone, consumed_at__isnull=True, invalidated_at__isnull=True).update(
        invalidated_at=now
    )
    challenge = OtpChallenge.objects.create(
        phone=phone,
        channel=channel,
        nonce=secrets.token_hex(16),
        client_ip=client_ip or None,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    otp_deliver.defer(challenge_id=challenge.pk)
    logger.info("otp_requested", extra={"phone": mask_phone(phone), "channel": channel, "challenge_id": challenge.pk})
    return challenge


def otp_deliver(*, challenge_id: int, final_attempt: bool) -> None:
    """Send the code. Runs in a job; provider errors propagate so the job's retry policy can act on them."""
    with transaction.atomic():
        challenge = OtpChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if challenge is None or not challenge.is_open or challenge.expires_at <= timezone.now():
            logger.info("otp_delivery_skipped", extra={"challenge_id": challenge_id})
            return
        if challenge.delivery_status == OtpChallenge.Delivery.SENT:
            return
        challenge.delivery_attempts += 1
        challenge.save(update_fields=["delivery_attempts"])
    provider = get_messaging_provider()
    try:
        # Outside any transaction: never hold a lock across a provider call.
        provider.send_otp(phone=challenge.phone, channel=challenge.channel, code=otp_code_for(challenge))
    except ProviderError as exc:
        gave_up = final_attempt or not exc.retryable
        if isinstance(exc, ProviderConfigurationError):
            logger.error(
                "otp_provider_configuration_error",
                extra={"challenge_id": challenge_id, "error": type(exc).__name__},
            )
        OtpChallenge.objects.filter(pk=challenge_id).update(
            delivery_error=f"{type(exc).__name__}: {str(exc)[:200]}",
            delivery_status=OtpChallenge.Delivery.FAILED if gave_up else OtpChallenge.Delivery.PENDING,
        )
        logger.warning(
            "otp_delivery_failed",
            extra={"challenge_id": challenge_id, "error": type(exc).__name__, "gave_up": gave_up},
        )
        raise
    finally:
        close = getattr(provider, "close", None)
        if close:
            close()
    OtpChallenge.objects.filter(pk=challenge_id).update(
        delivery_status=OtpChallenge.Delivery.SENT, delivered_at=timezone.now(), delivery_error=""
    )
    logger.info("otp_delivered", extra={"challenge_id": challenge_id, "phone": mask_phone(challenge.phone)})


@dataclass(frozen=True)
class Login:
    user: User
    created: bool
    access: str
    refresh: str


def _verify(*, phone: str, code: str) -> tuple[Exception | None, User | None, bool]:
    now = timezone.now()
    with transaction.atomic():
        _advisory_lock(f"otp:phone:{phone}")
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone=phone, consumed_at__isnull=True, invalidated_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if challenge is None:
            latest = OtpChallenge.objects.filter(phone=phone).order_by("-created_at").first()
            if latest is not None and latest.invalidated_at and latest.attempts >= settings.OTP_MAX_ATTEMPTS:
                return OtpAttemptsExceeded(), None, False
            return OtpInvalid(), None, False
        if challenge.expires_at <= now:
            challenge.invalidated_at = now
            challenge.save(update_fields=["invalidated_at"])
            return OtpExpired(), None, False
        challenge.attempts += 1
        if not hmac.compare_digest(otp_code_for(challenge), code):
            if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
                challenge.invalidated_at = now
            challenge.save(update_fields=["attempts", "invalidated_at"])
            return OtpInvalid(), None, False
        challenge.consumed_at = now
        challenge.save(update_fields=["attempts", "consumed_at"])
        # Serialized with any other login for this phone by the advisory lock above.
        user = User.objects.filter(phone=phone).first()
        created = user is None
        if user is None:
            user = User.objects.create_user(phone=phone, role=User.Role.CUSTOMER)
        if not user.is_active:
            return OtpInvalid(), None, False
    return None, user, created


def otp_verify(*, phone: str, code: str) -> Login:
    """Check the code; on success log in (creating the customer on first login) and issue JWTs."""
    error, user, created = _verify(phone=phone, code=code)
    if error is not None:
        # The attempt counter is committed before the refusal leaves.
        logger.info("otp_verify_refused", extra={"phone": mask_phone(phone), "reason": type(error).__name__})
        raise error
    assert user is not None  # noqa: S101 - for the type checker
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    logger.info("otp_login", extra={"user_id": user.pk, "user_created": created})
    return Login(user=user, created=created, access=str(refresh.access_token), refresh=str(refresh))


def user_update(*, user: User, **changes: Any) -> User:
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean()
    user.save()
    return user
