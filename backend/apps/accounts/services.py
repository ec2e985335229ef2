"""Phone login: request a one-time code, deliver it from a job, verify it, issue tokens.

Codes are made here, not by the provider, so that their length, expiry and attempt limit are ours. A code is
never stored: it is derived from a random per-challenge nonce with a server secret (HMAC-SHA256), and the
comparison is constant-time. Authentica only delivers it (`send-otp` with our `otp`, in its message template).

Every code has a purpose (`OtpChallenge.purpose`): `login` (`otp_request` / `otp_verify`) or `delete_account`
(`account_delete_code_request` / `account_delete`, for the signed-in person's own phone). A check looks only at
the open codes of its own purpose, so a login code never confirms a deletion and a deletion code never logs in.
The abuse limits below count and guard every code of a phone alike.

Abuse limits (docs/otp.md; all in PostgreSQL, so every app process shares them and a restart forgets nothing).
A *client* is counted by its network: an IPv4 address or an IPv6 /64. A client is *recognised* for a phone when it
shows a device token issued at an earlier login of that phone, or when that phone logged in from its network in
the last OTP_TRUSTED_NETWORK_DAYS.

- Requests: codes go only to OTP_ALLOWED_COUNTRIES; a resend cooldown and an hourly cap per phone *and client*
  (a stranger spends his own budget, not the owner's); an hourly cap per phone for unrecognised clients together
  (recognised ones are not held by it); an hourly cap per client; a site-wide hourly budget of codes. A new code
  replaces only the codes the same client asked for: a stranger's request does not kill the owner's pending code.
- Checks: OTP_MAX_ATTEMPTS wrong tries per code (then the code is dead); wrong codes per rolling day with a
  growing back-off and a daily cap (OTP_MAX_FAILURES_PER_DAY) counted per *failure pool*: every unrecognised client
  of a phone together, and each recognised client alone. So guesses per phone and day are bounded, and a stranger
  who spends the unrecognised pool does not lock out the owner's recognised device or network.
- Delivery: at most OTP_UNCERTAIN_RETRIES re-sends after a send that may have delivered the code.

Requests and checks for one phone are serialized with a transaction-level advisory lock, so concurrent requests
cannot slip past a limit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts import metrics
from apps.accounts.errors import (
    OtpAttemptsExceeded,
    OtpBackoff,
    OtpCountryNotAllowed,
    OtpExpired,
    OtpInvalid,
    OtpLocked,
    OtpRateLimited,
    OtpSmsBudgetExhausted,
    PlatformRoleHeld,
)
from apps.accounts.messaging import get_messaging_provider
from apps.accounts.models import OtpChallenge, OtpVerifyAttempt, User
from apps.accounts.phone import normalize_phone
from apps.accounts.providers.base import ProviderConfigurationError, ProviderError, ProviderUnavailable
from apps.core import personal_data
from apps.core.errors import DomainError
from apps.core.http import UNKNOWN, client_network, parse_ip
from apps.core.masking import mask_phone

logger = logging.getLogger("mawid.accounts")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
UNTRUSTED = "untrusted"
_DEVICE_SALT = "mawid.accounts.otp.device"
# A 503 (or a 429) says "not now" before anything was done; any other failure after the request left may have sent it.
_NOT_PROCESSED = frozenset({503})


def _advisory_lock(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def otp_code_for(challenge: OtpChallenge) -> str:
    digest = hmac.new(
        settings.OTP_SECRET.encode(), f"otp:{challenge.pk}:{challenge.nonce}".encode(), hashlib.sha256
    ).digest()
    length = settings.OTP_CODE_LENGTH
    return str(int.from_bytes(digest[:8], "big") % 10**length).zfill(length)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


def _window_retry_after(times: list[datetime], *, cap: int, window: timedelta, now: datetime) -> int:
    """Seconds until fewer than `cap` of `times` (oldest first, all inside the rolling `window`) remain in it."""
    return _seconds_until(times[max(0, len(times) - cap)] + window, now)


# -- who is asking ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtpClient:
    """The caller of a request or a check: its address, its network and the failure pool it draws on."""

    ip: str | None
    network: str
    pool: str

    @property
    def trusted(self) -> bool:
        return self.pool != UNTRUSTED

    @property
    def device_id(self) -> str | None:
        return self.pool.removeprefix("device:") if self.pool.startswith("device:") else None


def _phone_tag(phone: str) -> str:
    return hmac.new(settings.OTP_SECRET.encode(), f"device:{phone}".encode(), hashlib.sha256).hexdigest()[:24]


def device_token_for(*, phone: str, device_id: str | None = None) -> str:
    """A signed token naming one device that logged in to `phone` (the phone itself appears only as a keyed hash)."""
    payload = {"d": device_id or secrets.token_hex(8), "p": _phone_tag(phone)}
    return signing.dumps(payload, key=settings.OTP_SECRET, salt=_DEVICE_SALT, compress=False)


def _device_id(*, phone: str, device_token: str | None) -> str | None:
    if not device_token:
        return None
    try:
        data = signing.loads(
            device_token,
            key=settings.OTP_SECRET,
            salt=_DEVICE_SALT,
            max_age=timedelta(days=settings.OTP_DEVICE_TOKEN_DAYS),
        )
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not hmac.compare_digest(str(data.get("p", "")), _phone_tag(phone)):
        return None
    device = data.get("d")
    return device if isinstance(device, str) and device.isalnum() and len(device) <= 32 else None


def otp_client(*, phone: str, client_ip: str | None, device_token: str | None, now: datetime) -> OtpClient:
    """Who is asking about `phone`: a device it logged in from, a network it logged in from, or a stranger."""
    ip = parse_ip(client_ip or "")
    network = client_network(ip)
    device = _device_id(phone=phone, device_token=device_token)
    if device is not None:
        return OtpClient(ip=ip, network=network, pool=f"device:{device}")
    if (
        network != UNKNOWN
        and OtpVerifyAttempt.objects.filter(
            phone=phone,
            client_key=network,
            succeeded=True,
            created_at__gte=now - timedelta(days=settings.OTP_TRUSTED_NETWORK_DAYS),
        ).exists()
    ):
        return OtpClient(ip=ip, network=network, pool=f"net:{network}")
    return OtpClient(ip=ip, network=network, pool=UNTRUSTED)


# -- requesting a code -----------------------------------------------------------------------------------------


def _refuse(reason: str, error: DomainError) -> DomainError:
    metrics.refusal(reason=reason)
    logger.info("otp_request_refused", extra={"reason": reason})
    return error


def _check_country(phone: str) -> None:
    allowed = settings.OTP_ALLOWED_COUNTRIES
    if "*" in allowed:
        return
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    if region not in allowed:
        message = OtpCountryNotAllowed.message
        raise _refuse("country_not_allowed", OtpCountryNotAllowed(fields={"phone": [str(message)]}))


def _check_sms_budget(now: datetime) -> None:
    """The site-wide hourly budget of codes. Not locked: concurrent requests may overshoot it by a few.

    Every refusal logs at ERROR (someone must look: an attack, or a budget too small for the traffic); each refused
    request has already passed the per-phone and per-client caps, so the volume is bounded by them.
    """
    budget = settings.OTP_SMS_BUDGET_PER_HOUR
    sent = OtpChallenge.objects.filter(created_at__gte=now - HOUR)
    count = sent.count()
    if count < budget:
        return
    times = list(sent.order_by("created_at").values_list("created_at", flat=True)[: count - budget + 1])
    logger.error("otp_sms_budget_exhausted", extra={"budget_per_hour": budget, "codes_last_hour": count})
    raise _refuse("sms_budget_exhausted", OtpSmsBudgetExhausted(retry_after=_seconds_until(times[-1] + HOUR, now)))


@transaction.atomic
def otp_request(
    *,
    phone: str,
    channel: str = OtpChallenge.Channel.SMS,
    client_ip: str | None = None,
    device_token: str | None = None,
    purpose: str = OtpChallenge.Purpose.LOGIN,
) -> OtpChallenge:
    """Check the limits, replace this client's open code of the same `purpose` for this phone, and defer the
    delivery job. The limits count every code sent to the phone, whatever its purpose."""
    from apps.accounts.jobs import otp_deliver

    now = timezone.now()
    _check_country(phone)
    _advisory_lock(f"otp:phone:{phone}")
    client = otp_client(phone=phone, client_ip=client_ip, device_token=device_token, now=now)
    locked = _failure_refusal(phone=phone, pool=client.pool, now=now)
    if isinstance(locked, OtpLocked):  # a code this client could not check would only cost a text
        raise _refuse("locked", locked)
    recent = OtpChallenge.objects.filter(phone=phone, created_at__gte=now - HOUR)
    mine = list(recent.filter(client_key=client.network).order_by("created_at").values_list("created_at", flat=True))
    if mine:
        ready_at = mine[-1] + timedelta(seconds=settings.OTP_RESEND_COOLDOWN_SECONDS)
        if ready_at > now:
            raise _refuse("cooldown", OtpRateLimited(retry_after=int((ready_at - now).total_seconds()) + 1))
    cap = settings.OTP_MAX_PER_PHONE_CLIENT_PER_HOUR
    if len(mine) >= cap:
        raise _refuse(
            "phone_client_cap", OtpRateLimited(retry_after=_window_retry_after(mine, cap=cap, window=HOUR, now=now))
        )
    if not client.trusted:
        cap = settings.OTP_MAX_PER_PHONE_PER_HOUR
        strangers = list(recent.filter(trusted=False).order_by("created_at").values_list("created_at", flat=True))
        if len(strangers) >= cap:
            retry_after = _window_retry_after(strangers, cap=cap, window=HOUR, now=now)
            raise _refuse("phone_cap", OtpRateLimited(retry_after=retry_after))
    if client.network != UNKNOWN:
        _advisory_lock(f"otp:client:{client.network}")
        cap = settings.OTP_MAX_PER_IP_PER_HOUR
        by_client = OtpChallenge.objects.filter(client_key=client.network, created_at__gte=now - HOUR)
        if by_client.count() >= cap:
            times = list(by_client.order_by("created_at").values_list("created_at", flat=True))
            raise _refuse(
                "client_cap", OtpRateLimited(retry_after=_window_retry_after(times, cap=cap, window=HOUR, now=now))
            )
    _check_sms_budget(now)
    OtpChallenge.objects.filter(
        phone=phone, purpose=purpose, client_key=client.network, consumed_at__isnull=True, invalidated_at__isnull=True
    ).update(invalidated_at=now)
    challenge = OtpChallenge.objects.create(
        phone=phone,
        purpose=purpose,
        channel=channel,
        nonce=secrets.token_hex(16),
        client_ip=client.ip,
        client_key=client.network,
        trusted=client.trusted,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    otp_deliver.defer(challenge_id=challenge.pk)
    logger.info(
        "otp_requested",
        extra={
            "phone": mask_phone(phone),
            "channel": channel,
            "purpose": purpose,
            "challenge_id": challenge.pk,
            "recognised_client": client.trusted,
        },
    )
    return challenge


# -- delivering it ---------------------------------------------------------------------------------------------


def _maybe_delivered(exc: ProviderError) -> bool:
    return isinstance(exc, ProviderUnavailable) and exc.maybe_delivered and exc.status_code not in _NOT_PROCESSED


def otp_deliver(*, challenge_id: int, final_attempt: bool) -> None:
    """Send the code. Runs in a job; provider errors propagate so the job's retry policy can act on them.

    A send that may have delivered the code anyway (read timeout, 500/502/504, dropped connection) is repeated at
    most OTP_UNCERTAIN_RETRIES times; after that the code is left `unknown` (no more texts): each is billed, and
    the person can ask for a new code once the cooldown has passed.
    """
    with transaction.atomic():
        challenge = OtpChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if challenge is None or not challenge.is_open or challenge.expires_at <= timezone.now():
            logger.info("otp_delivery_skipped", extra={"challenge_id": challenge_id})
            return
        if challenge.delivery_status in (OtpChallenge.Delivery.SENT, OtpChallenge.Delivery.UNKNOWN):
            return
        challenge.delivery_attempts += 1
        challenge.save(update_fields=["delivery_attempts"])
    provider = get_messaging_provider()
    try:
        # Outside any transaction: never hold a lock across a provider call.
        provider.send_otp(
            phone=challenge.phone,
            channel=challenge.channel,
            code=otp_code_for(challenge),
            template_id=_template_for(challenge),
        )
    except ProviderError as exc:
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        uncertain = challenge.delivery_uncertain + (1 if _maybe_delivered(exc) else 0)
        if uncertain > settings.OTP_UNCERTAIN_RETRIES:
            OtpChallenge.objects.filter(pk=challenge_id).update(
                delivery_error=error, delivery_uncertain=uncertain, delivery_status=OtpChallenge.Delivery.UNKNOWN
            )
            metrics.delivery(outcome="unknown")
            logger.warning(
                "otp_delivery_unknown",
                extra={"challenge_id": challenge_id, "error": type(exc).__name__, "uncertain_sends": uncertain},
            )
            return  # not raised: no retry, no further text for this code
        gave_up = final_attempt or not exc.retryable
        if isinstance(exc, ProviderConfigurationError):
            logger.error(
                "otp_provider_configuration_error",
                extra={"challenge_id": challenge_id, "error": type(exc).__name__},
            )
        OtpChallenge.objects.filter(pk=challenge_id).update(
            delivery_error=error,
            delivery_uncertain=uncertain,
            delivery_status=OtpChallenge.Delivery.FAILED if gave_up else OtpChallenge.Delivery.PENDING,
        )
        metrics.delivery(outcome="failed" if gave_up else "retry")
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
    metrics.delivery(outcome="sent")
    logger.info("otp_delivered", extra={"challenge_id": challenge_id, "phone": mask_phone(challenge.phone)})


def _template_for(challenge: OtpChallenge) -> int | None:
    """The provider's message template for this code: a deletion code says what it is for when a template for it
    is configured (`AUTHENTICA_DELETE_TEMPLATE_ID`); else (None) the login template."""
    if challenge.purpose == OtpChallenge.Purpose.DELETE_ACCOUNT:
        return settings.AUTHENTICA_DELETE_TEMPLATE_ID or None
    return None


@dataclass(frozen=True)
class Login:
    user: User
    created: bool
    access: str
    refresh: str
    device_token: str


def _failure_refusal(*, phone: str, pool: str, now: datetime) -> DomainError | None:
    """The daily cap and the growing back-off of one failure pool, or None when a code may be checked now."""
    failures = list(
        OtpVerifyAttempt.objects.filter(phone=phone, pool=pool, succeeded=False, created_at__gte=now - DAY)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    cap = settings.OTP_MAX_FAILURES_PER_DAY
    if len(failures) >= cap:
        return OtpLocked(retry_after=_window_retry_after(failures, cap=cap, window=DAY, now=now))
    beyond = len(failures) - settings.OTP_FAILURE_BACKOFF_FREE
    if failures and beyond >= 0:
        wait = min(
            settings.OTP_FAILURE_BACKOFF_MAX_SECONDS, settings.OTP_FAILURE_BACKOFF_SECONDS * 2 ** min(beyond, 30)
        )
        ready_at = failures[-1] + timedelta(seconds=wait)
        if ready_at > now:
            return OtpBackoff(retry_after=_seconds_until(ready_at, now))
    return None


def _verify(
    *, phone: str, code: str, client_ip: str | None, device_token: str | None, purpose: str = OtpChallenge.Purpose.LOGIN
) -> tuple[DomainError | None, User | None, bool, OtpClient]:
    """Check `code` against the open codes of `purpose` for `phone` only: a login code never confirms a deletion,
    a deletion code never logs in. On success the person with that phone (a login creates one when there is none;
    a deletion never does)."""
    now = timezone.now()
    with transaction.atomic():
        _advisory_lock(f"otp:phone:{phone}")
        client = otp_client(phone=phone, client_ip=client_ip, device_token=device_token, now=now)
        open_codes = (
            OtpChallenge.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, consumed_at__isnull=True, invalidated_at__isnull=True)
            .order_by("-created_at")
        )
        # The code this client asked for, when it asked for one: a stranger's newer request does not hide it.
        challenge = open_codes.filter(client_key=client.network).first() if client.network != UNKNOWN else None
        challenge = challenge or open_codes.first()
        if challenge is None:
            latest = OtpChallenge.objects.filter(phone=phone, purpose=purpose).order_by("-created_at").first()
            if latest is not None and latest.invalidated_at and latest.attempts >= settings.OTP_MAX_ATTEMPTS:
                return OtpAttemptsExceeded(), None, False, client
            return OtpInvalid(), None, False, client
        if challenge.expires_at <= now:
            challenge.invalidated_at = now
            challenge.save(update_fields=["invalidated_at"])
            return OtpExpired(), None, False, client
        # Only a comparison is a guess: the limits stand between the caller and the comparison.
        refusal = _failure_refusal(phone=phone, pool=client.pool, now=now)
        if refusal is not None:
            metrics.refusal(reason=refusal.code.removeprefix("otp_"))
            return refusal, None, False, client
        challenge.attempts += 1
        if not hmac.compare_digest(otp_code_for(challenge), code):
            if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
                challenge.invalidated_at = now
            challenge.save(update_fields=["attempts", "invalidated_at"])
            OtpVerifyAttempt.objects.create(
                phone=phone, client_key=client.network, pool=client.pool, succeeded=False, created_at=now
            )
            metrics.verify_failure(pool=client.pool)
            return OtpInvalid(), None, False, client
        challenge.consumed_at = now
        challenge.save(update_fields=["attempts", "consumed_at"])
        # Serialized with any other login for this phone by the advisory lock above.
        user = User.objects.filter(phone=phone).first()
        created = user is None and purpose == OtpChallenge.Purpose.LOGIN
        if created:
            user = User.objects.create_user(phone=phone, role=User.Role.CUSTOMER)
        if user is None or not user.is_active:
            return OtpInvalid(), None, False, client
        OtpVerifyAttempt.objects.create(
            phone=phone, client_key=client.network, pool=client.pool, succeeded=True, created_at=now
        )
    return None, user, created, client


@dataclass(frozen=True)
class CheckedCode:
    """A code that matched: the person (created on first login) and this client's device token."""

    user: User
    created: bool
    device_token: str


def otp_check(
    *, phone: str, code: str, client_ip: str | None = None, device_token: str | None = None, surface: str = "api"
) -> CheckedCode:
    """Check the code under every limit of `otp_verify`; on success the person (created on first login) and a
    device token, without tokens: the website logs the person into a session instead (`apps.web`)."""
    error, user, created, client = _verify(phone=phone, code=code, client_ip=client_ip, device_token=device_token)
    if error is not None:
        # The attempt counter is committed before the refusal leaves.
        logger.info(
            "otp_verify_refused",
            extra={"phone": mask_phone(phone), "reason": type(error).__name__, "recognised_client": client.trusted},
        )
        raise error
    assert user is not None  # noqa: S101 - for the type checker
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    logger.info(
        "otp_login",
        extra={"user_id": user.pk, "user_created": created, "recognised_client": client.trusted, "surface": surface},
    )
    return CheckedCode(user=user, created=created, device_token=device_token_for(phone=phone, device_id=client.device_id))


def otp_verify(*, phone: str, code: str, client_ip: str | None = None, device_token: str | None = None) -> Login:
    """Check the code; on success log in (creating the customer on first login) and issue JWTs and a device token.

    `device_token` (from an earlier login of this phone) lets the caller draw on its own failure budget instead of
    the one shared by every client not recognised for this phone.
    """
    checked = otp_check(phone=phone, code=code, client_ip=client_ip, device_token=device_token)
    refresh = RefreshToken.for_user(checked.user)
    return Login(
        user=checked.user,
        created=checked.created,
        access=str(refresh.access_token),
        refresh=str(refresh),
        device_token=checked.device_token,
    )


def user_update(*, user: User, **changes: Any) -> User:
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean()
    user.save()
    return user


def customer_get_or_create(*, phone: str, name: str = "") -> tuple[User, bool]:
    """The customer with this phone number (any common form; stored in E.164), created when there is none: a
    walk-in or phone booking the business makes for them (the calendar). They sign in later with the same number
    (OTP). A name is given to a new customer, or to one who has none yet; an existing name is kept.
    `InvalidPhone` for a number that is not a mobile one. True when created."""
    e164 = normalize_phone(phone, mobile_only=True)
    name = name.strip()[:150]
    user, created = User.objects.get_or_create(phone=e164, defaults={"name": name, "role": User.Role.CUSTOMER})
    if not created and name and not user.name:
        user.name = name
        user.save(update_fields=["name"])
    return user, created


# -- the person's data: export and account deletion (docs/privacy.md) --------------------------------------------


def personal_data_document(*, user: User) -> dict[str, Any]:
    """Everything Mawid holds about `user` (every app's declared sections), as a JSON-ready document."""
    return personal_data.personal_data_export(user)


def account_delete_code_request(*, user: User, client_ip: str | None = None) -> OtpChallenge:
    """A fresh deletion code (`purpose=delete_account`) to the account's own phone, under every limit of a login
    code (they count it with the login codes). It confirms only a deletion, and a login code cannot stand in for
    it. Refused at once (before a text is sent) when the account may not be deleted now."""
    _deletion_refusal(user)
    return otp_request(phone=str(user.phone), client_ip=client_ip, purpose=OtpChallenge.Purpose.DELETE_ACCOUNT)


def _deletion_refusal(user: User) -> None:
    if user.is_superuser:
        raise PlatformRoleHeld()
    for refusal in personal_data.deletion_refusals.all():
        error = refusal(user)
        if error is not None:
            raise error


def account_delete(*, user: User, code: str, client_ip: str | None = None, now: datetime | None = None) -> None:
    """Delete the account of `user`, confirmed by a fresh deletion code sent to its phone
    (`account_delete_code_request`; a login code is refused as `otp_invalid`).

    Refused (409) while the person holds a role at a business, or is a platform operator. A wrong or expired code
    is `otp_invalid` / `otp_expired` (400) under the login limits, and nothing changes. Then, in one transaction:
    every future booking is cancelled as its business would cancel it (payments voids or refunds in full, from
    jobs), refresh tokens are blacklisted and web sessions deleted, and every declared row of the person is erased
    or pseudonymised (`apps.core.personal_data`): the user row stays, inactive, with a placeholder instead of the
    phone, so that bookings, payments, invoices and ledgers keep their anonymous customer and every total holds.
    The phone can then sign up again as a new person."""
    _deletion_refusal(user)
    phone = str(user.phone)
    error, checked, _created, _client = _verify(
        phone=phone, code=code, client_ip=client_ip, device_token=None, purpose=OtpChallenge.Purpose.DELETE_ACCOUNT
    )
    if error is not None:
        logger.info("account_delete_refused", extra={"user_id": user.pk, "reason": type(error).__name__})
        raise error
    if checked is None or checked.pk != user.pk:  # the phone changed hands between the code and now
        raise OtpInvalid()
    now = now or timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _deletion_refusal(locked)
        for step in personal_data.deletion_steps.all():
            step(locked, now)
        personal_data.personal_data_erase(locked)
    logger.info("account_deleted", extra={"user_id": user.pk, "phone": mask_phone(phone)})
