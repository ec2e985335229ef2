"""Users in the admin, and the two admin roles every app's admin uses.

Managers (role `manager`, or a superuser) see and run everything our admins offer, whether or not they are in
the "Managers" group; everyone else (a staff member: role `staff` with admin access) needs model permissions,
which the "Staff" group gives (`manage.py setup_roles`), and each admin narrows what they see to their own rows.
"""

from __future__ import annotations

import re

import phonenumbers
from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OtpChallenge, OtpVerifyAttempt, User
from apps.accounts.phone import InvalidPhone, normalize_phone
from apps.accounts.roles import role_group_sync
from apps.core.admin_dates import SafeDateHierarchyMixin

_PHONE_TYPED = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")


def is_manager(user) -> bool:
    """A manager in the admin: an active user with admin access and the manager role, or a superuser."""
    return bool(user.is_active and user.is_staff and (user.is_superuser or getattr(user, "role", None) == "manager"))


def phone_search_prefix(term: str) -> str | None:
    """The E.164 beginning of the phones a search term means, however it was typed: `0501234567`,
    `+966 50 123 4567`, `00966501234567` and `966501234567` all mean `+966501234567`; a partial `05012` means
    phones starting `+96650 12`. None when the term is not a phone (a name, a booking number)."""
    term = term.strip()
    if not _PHONE_TYPED.match(term):
        return None
    try:
        return normalize_phone(term)
    except InvalidPhone:
        pass
    digits = re.sub(r"[^0-9]", "", term)
    country = str(phonenumbers.country_code_for_region(settings.PHONENUMBER_DEFAULT_REGION))
    if term.startswith("+"):
        prefix = digits
    elif digits.startswith("00"):
        prefix = digits[2:]
    elif digits.startswith("0"):
        prefix = country + digits[1:]
    elif digits.startswith(country):
        prefix = digits
    else:
        return None  # a few digits: a booking number, or part of one
    return "+" + prefix if len(prefix) >= len(country) + 2 else None


class ManagerAccessMixin:
    """For a ModelAdmin or an inline: managers get every permission the admin itself allows (an admin that
    refuses adding or deleting still refuses it: define `has_add_permission` etc. on the admin class, which comes
    before this mixin); anyone else is checked against their model permissions as usual."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_manager(request.user) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_manager(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return is_manager(request.user) or super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_manager(request.user) or super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_manager(request.user) or super().has_delete_permission(request, obj)  # type: ignore[misc]


@admin.register(User)
class UserAdmin(ManagerAccessMixin, BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["phone", "name", "email", "role", "is_staff", "language", "is_active", "date_joined"]
    list_filter = ["role", "is_staff", "language", "is_active", "groups"]
    search_fields = ["phone", "name", "email"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Profile"), {"fields": ["name", "email", "language", "role"]}),
        (_("Notifications"), {"fields": ["notify_sms", "notify_whatsapp", "notify_email"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["phone", "name", "role", "is_staff", "password1", "password2"]})
    ]

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        prefix = phone_search_prefix(search_term)
        if prefix:  # `queryset` comes with the list filters applied already
            found |= queryset.filter(phone__startswith=prefix)
        return found, duplicates

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Rights come from the role (see `setup_roles`); only a superuser hands out anything else.
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # a manager cannot take over a superuser's account (phone, password)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Users are deactivated, not deleted: bookings and payments point at them.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        role_group_sync(form.instance)  # a manager or staff member with admin access joins their role's group


@admin.register(OtpChallenge)
class OtpChallengeAdmin(ManagerAccessMixin, admin.ModelAdmin):
    list_display = [
        "phone",
        "channel",
        "created_at",
        "client_key",
        "trusted",
        "attempts",
        "delivery_status",
        "consumed_at",
        "invalidated_at",
    ]
    list_filter = ["channel", "delivery_status", "trusted"]
    search_fields = ["phone"]
    readonly_fields = [f.name for f in OtpChallenge._meta.fields if f.name != "nonce"]
    exclude = ["nonce"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a record of what happened

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(OtpVerifyAttempt)
class OtpVerifyAttemptAdmin(ManagerAccessMixin, admin.ModelAdmin):
    """Code checks. A phone locked by wrong codes (docs/otp.md) is unlocked by deleting its recent failures."""

    list_display = ["phone", "created_at", "succeeded", "pool", "client_key"]
    list_filter = ["succeeded"]
    search_fields = ["phone"]
    readonly_fields = [f.name for f in OtpVerifyAttempt._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


# django-axes' sign-in records (AXES_ENABLE_ADMIN is off so that they are registered here, once): the same lists
# and actions as axes' own, with the date drill-down that answers an out-of-range year as a bad filter, not a 500.
@admin.register(AccessAttempt)
class AccessAttemptAdmin(SafeDateHierarchyMixin, axes_admin.AccessAttemptAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(SafeDateHierarchyMixin, axes_admin.AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(SafeDateHierarchyMixin, axes_admin.AccessFailureLogAdmin):
    pass
