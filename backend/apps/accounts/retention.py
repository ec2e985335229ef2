"""Accounts' retention rules: login codes and code checks (registered in AccountsConfig.ready()).

The OTP abuse limits (apps/accounts/services.py, docs/otp.md) count these rows: challenges over the last hour,
failed checks over the last rolling day, successful checks over OTP_TRUSTED_NETWORK_DAYS (they make a network
recognised for a phone). So a row is never purged inside the window a limit still reads, whatever
RETENTION_OTP_DAYS says: challenges and failed checks stay at least a day, successful checks at least as long as a
network stays recognised.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import OtpChallenge, OtpVerifyAttempt
from apps.core.retention import Rule, delete_batch, deleting_rule

DAY = timedelta(days=1)


def _keep() -> timedelta:
    return max(timedelta(days=settings.RETENTION_OTP_DAYS), DAY)


def _challenges_due(now: datetime) -> QuerySet[OtpChallenge]:
    # expires_at too: a code is never deleted while it could still be used (its TTL is minutes).
    return OtpChallenge.objects.filter(created_at__lt=now - _keep(), expires_at__lt=now)


def _checks_due(now: datetime) -> QuerySet[OtpVerifyAttempt]:
    trusted = max(timedelta(days=settings.OTP_TRUSTED_NETWORK_DAYS), _keep())
    return OtpVerifyAttempt.objects.filter(
        Q(succeeded=False, created_at__lt=now - _keep()) | Q(succeeded=True, created_at__lt=now - trusted)
    )


OTP_CHALLENGES = deleting_rule(
    name="otp_challenges",
    setting="RETENTION_OTP_DAYS",
    due=_challenges_due,
    description="Login codes sent (phone, network, delivery status), after RETENTION_OTP_DAYS (at least a day).",
)
OTP_CHECKS = deleting_rule(
    name="otp_checks",
    setting="RETENTION_OTP_DAYS",
    due=_checks_due,
    description="Code checks: failed ones after RETENTION_OTP_DAYS (at least a day), successful ones after "
    "OTP_TRUSTED_NETWORK_DAYS.",
)


def _admin_logins_due(now: datetime) -> list[QuerySet[Any]]:
    keep = max(timedelta(days=settings.RETENTION_ADMIN_LOGIN_DAYS), settings.AXES_COOLOFF_TIME)
    models_: tuple[type[models.Model], ...] = (AccessLog, AccessFailureLog, AccessAttempt)
    return [model._default_manager.filter(attempt_time__lt=now - keep) for model in models_]


def _purge_admin_logins(now: datetime, limit: int) -> int:
    """One batch from the first of axes' three tables that still has due rows."""
    for queryset in _admin_logins_due(now):
        done = delete_batch(queryset, limit=limit)
        if done:
            return done
    return 0


def _tokens_due(now: datetime) -> QuerySet[OutstandingToken]:
    # An expired refresh token is refused by its signature's expiry already; its blacklist row goes with it.
    return OutstandingToken.objects.filter(expires_at__lt=now - timedelta(days=settings.RETENTION_TOKEN_DAYS))


ADMIN_SIGN_IN_RECORDS = Rule(
    name="admin_sign_in_records",
    setting="RETENTION_ADMIN_LOGIN_DAYS",
    purge=_purge_admin_logins,
    due=lambda now: sum(queryset.count() for queryset in _admin_logins_due(now)),
    description="django-axes' admin sign-in logs, failure logs and attempts (phone typed, address, browser).",
)
EXPIRED_TOKENS = deleting_rule(
    name="expired_tokens",
    setting="RETENTION_TOKEN_DAYS",
    due=_tokens_due,
    description="Issued refresh tokens (and their blacklist entries) RETENTION_TOKEN_DAYS after they expired.",
)
