"""What accounts holds about a person (docs/privacy.md): the user row, login codes and their checks, and the
third-party tables accounts brings: JWT refresh tokens, web sessions, the admin lockout's logs, Django's auth
and admin tables. Imported from `AccountsConfig.ready()`."""

from __future__ import annotations

import uuid
from typing import Any

from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import DELETED_PHONE_PREFIX, OtpChallenge, OtpVerifyAttempt, User
from apps.core.personal_data import delete_row, erase, keep, no_personal_data, pseudonymise, register

DELETED_NAME = "عميل محذوف / Deleted customer"


def _phone(user: Any) -> str:
    return str(user.phone)


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "phone": str(user.phone),
        "name": user.name,
        "email": user.email,
        "language": user.language,
        "role": user.role,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "consents": {
            "notify_sms": user.notify_sms,
            "notify_whatsapp": user.notify_whatsapp,
            "notify_email": user.notify_email,
        },
    }


def _session_keys(user: Any) -> list[str]:
    """Web sessions logged in as `user` (their data is signed and encoded: read each)."""
    keys = []
    for session in Session.objects.all().iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            keys.append(session.session_key)
    return keys


def _revoke_tokens(user: Any) -> None:
    """Every refresh token of `user` blacklisted (access tokens die with the account: authentication refuses an
    inactive user)."""
    for token in OutstandingToken.objects.filter(user_id=user.pk):
        BlacklistedToken.objects.get_or_create(token=token)


def _admin_entries(user: Any) -> Any:
    ct = ContentType.objects.get_for_model(User)
    return LogEntry.objects.filter(Q(content_type=ct, object_id=str(user.pk)) | Q(user_id=user.pk))


def _lockout(model: Any) -> Any:
    return lambda user: model.objects.filter(username=_phone(user))


def declare() -> None:
    register(
        User,
        section="profile",
        rows=lambda user: User.objects.filter(pk=user.pk),
        export=_profile,
        order=100,  # last: the other rows are found by the phone and the id first
        fields={
            "phone": pseudonymise(
                lambda row, user: f"{DELETED_PHONE_PREFIX}{uuid.uuid4().hex}",
                "unique and not a phone: the number can sign up again as a new person",
            ),
            "name": pseudonymise(DELETED_NAME),
            "email": erase(None),
            "password": pseudonymise(lambda row, user: make_password(None), "unusable"),
            "is_active": erase(False, "authentication refuses the account, access tokens included"),
            "notify_sms notify_whatsapp notify_email": erase(False),
            "is_staff": erase(False),
            "last_login": erase(None),
        },
        not_personal={"role language": "settings, meaningless without the person"},
    )
    register(
        OtpChallenge,
        section="login_codes",
        rows=lambda user: OtpChallenge.objects.filter(phone=_phone(user)),
        export=lambda c: {
            "created_at": c.created_at,
            "purpose": c.purpose,
            "channel": c.channel,
            "client_ip": c.client_ip,
            "delivery_status": c.delivery_status,
            "consumed_at": c.consumed_at,
        },
        delete_rows=True,
        fields={"phone client_ip client_key delivery_error": delete_row("abuse limits only")},
        not_personal={"nonce": "a random value (the code is never stored)"},
    )
    register(
        OtpVerifyAttempt,
        section="code_checks",
        rows=lambda user: OtpVerifyAttempt.objects.filter(phone=_phone(user)),
        export=lambda a: {"created_at": a.created_at, "succeeded": a.succeeded},
        delete_rows=True,
        fields={"phone client_key pool": delete_row("abuse limits only")},
    )
    register(
        Session,
        rows=lambda user: Session.objects.filter(session_key__in=_session_keys(user)),
        delete_rows=True,
        fields={"session_data": delete_row("the website's login: logged out everywhere")},
        not_personal={"session_key": "a random key"},
    )
    register(
        OutstandingToken,
        rows=lambda user: OutstandingToken.objects.filter(user_id=user.pk),
        eraser=_revoke_tokens,
        fields={"user token": keep("blacklisted: the refusal must know each refresh token until it expires (30 days)")},
        not_personal={"jti": "a random id"},
    )
    no_personal_data(BlacklistedToken, reason="points at an outstanding token")
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        register(
            model,
            rows=_lockout(model),
            delete_rows=True,
            fields={
                name: delete_row("admin lockout records of the number")
                for name in ("username", "ip_address", "user_agent", "http_accept", "path_info")
                + (("get_data", "post_data") if model is AccessAttempt else ())
                + (("session_hash",) if model is AccessLog else ())
            },
        )
    no_personal_data(AccessAttemptExpiration, reason="when a lockout record expires")
    register(
        LogEntry,
        rows=_admin_entries,
        fields={
            "object_repr": pseudonymise(DELETED_NAME, "the admin's history names the account"),
            "change_message": erase(""),
            "user": keep("who acted in the admin: platform and business staff, who cannot delete their account"),
        },
        not_personal={"object_id": "a row id"},
    )
    no_personal_data(Permission, reason="Django's permissions", not_personal={"name codename": "a permission's name"})
    no_personal_data(Group, reason="role groups", not_personal={"name": "a role's name"})
