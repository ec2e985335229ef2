"""Users in the admin, and the admin rights every app's admin uses.

Rights are per business: owner, manager and staff are memberships of a business (`catalog.Membership`), not
global roles. The admin's scope middleware (`apps.catalog.middleware`) puts each /admin/ request in the scope of
the user's businesses and records on the request which of them the user runs (owner or manager) and which they
are a member of at all; everything here reads those two lists (`managed_business_ids`, `member_business_ids`).

* A platform operator (superuser) sees and runs everything.
* A manager (an owner or manager membership of some business, with admin access) gets every permission the
  admin itself allows on the rows of the businesses they run, whether or not they are in the "Managers" group;
  a row of a business they do not run is never theirs to change, add to or delete.
* Anyone else (a staff member) needs model permissions, which the "Staff" group gives (`manage.py setup_roles`),
  and each admin narrows what they see to their own rows (their bookings, their profile and schedule).

A person who manages business A and is staff at B therefore manages A's rows and sees only their own at B.
"""

from __future__ import annotations

import re

import phonenumbers
from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OtpChallenge, OtpVerifyAttempt, User
from apps.accounts.phone import InvalidPhone, normalize_phone
from apps.accounts.roles import role_group_sync
from apps.core.admin_dates import SafeDateHierarchyMixin

_PHONE_TYPED = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")


def managed_business_ids(request: HttpRequest) -> list[int]:
    """The businesses the admin user runs (owner or manager), as the admin's scope middleware found them; none
    outside it (a request that did not go through the middleware has no rights to any business)."""
    return list(getattr(request, "managed_business_ids", ()))


def member_business_ids(request: HttpRequest) -> list[int]:
    """The businesses the admin user is a member of (owner, manager or staff); none outside the middleware."""
    return list(getattr(request, "member_business_ids", ()))


def is_manager(request: HttpRequest) -> bool:
    """A manager in the admin: an active user with admin access who runs at least one business, or a superuser.
    Which rows they may change is per business: `manages(request, business_id)`."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or managed_business_ids(request))


def manages(request: HttpRequest, business_id: int | None) -> bool:
    """Whether the admin user may change the rows of this business: a superuser, or its owner or manager. A row
    with no business (an account message, an unmatched webhook) is the platform's."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or (business_id is not None and business_id in managed_business_ids(request)))


def business_people(request: HttpRequest) -> QuerySet[User]:
    """The people a non-superuser's admin may see: members of the businesses they run, and those businesses'
    customers (a booking there). Relations are named, not imported: accounts sits below catalog and bookings."""
    ids = managed_business_ids(request)
    members = User.objects.filter(memberships__business_id__in=ids).values("pk")
    customers = User.objects.filter(bookings__business_id__in=ids).values("pk")
    return User.objects.filter(Q(pk__in=members) | Q(pk__in=customers))


def business_phones(request: HttpRequest) -> QuerySet[User, str]:
    """The phone numbers (E.164) of the members of the businesses a non-superuser runs: what a manager may see of
    sign-in codes and lockouts (to help their own people sign in). Not their customers': when and from where a
    customer signs in is their use of the whole platform, not of one business (docs/privacy.md)."""
    ids = managed_business_ids(request)
    return User.objects.filter(memberships__business_id__in=ids).values_list("phone", flat=True)


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
    """For a ModelAdmin or an inline: a manager gets every permission the admin itself allows (an admin that
    refuses adding or deleting still refuses it: define `has_add_permission` etc. on the admin class, which comes
    before this mixin) on the rows of the businesses they run; anyone else is checked against their model
    permissions as usual. A row of a business (anything with `business_id`; for an inline, its parent row) the
    user does not run is never theirs to add to, change or delete, whatever their groups say: they may only view
    it (when their model permissions allow and the admin's queryset shows it)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_manager(request) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may(request, obj) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        parent = args[0] if args else None  # an inline's parent row
        if _of_a_business(parent):
            return _may(request, parent)
        return is_manager(request) or super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if _of_a_business(obj):
            return _may(request, obj)
        return is_manager(request) or super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if _of_a_business(obj):
            return _may(request, obj)
        return is_manager(request) or super().has_delete_permission(request, obj)  # type: ignore[misc]


def _of_a_business(obj: object) -> bool:
    return obj is not None and hasattr(obj, "business_id")


def _may(request: HttpRequest, obj: object) -> bool:
    """A manager's right over `obj`: a business's row when they run that business; anything else (no row: the
    list, the add page) when they run some business."""
    if _of_a_business(obj):
        return manages(request, obj.business_id)  # type: ignore[attr-defined]
    return is_manager(request)


@admin.register(User)
class UserAdmin(ManagerAccessMixin, BaseUserAdmin):
    """Platform operators add and edit anyone. A manager sees the people of the businesses they run (members, and
    customers with a booking there), read-only: a person is one account across every business, so no single
    business may change their phone, password or access; memberships are given in the membership admin."""

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

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk__in=business_people(request).values("pk"))

    # A business sees its people's names and phones, nothing of their use of the rest of the platform (email,
    # language, sign-ins, other roles): docs/privacy.md, "Who sees what".
    _BUSINESS_SEES = ["phone", "name"]

    def get_list_display(self, request: HttpRequest):
        return super().get_list_display(request) if request.user.is_superuser else self._BUSINESS_SEES

    def get_list_filter(self, request: HttpRequest):
        return super().get_list_filter(request) if request.user.is_superuser else []

    def get_search_fields(self, request: HttpRequest):
        # Searching by email would tell a manager whose an email is, even with the column hidden.
        return super().get_search_fields(request) if request.user.is_superuser else self._BUSINESS_SEES

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if request.user.is_superuser or obj is None:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": self._BUSINESS_SEES})]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Rights come from memberships (see `setup_roles`); only a superuser hands out anything else.
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)  # managers add people as members (catalog's membership admin)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Whatever the groups say: one account spans every business, only the platform changes it.
        return bool(request.user.is_superuser) and super().has_change_permission(request, obj)

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
        "purpose",
        "channel",
        "created_at",
        "client_key",
        "trusted",
        "attempts",
        "delivery_status",
        "consumed_at",
        "invalidated_at",
    ]
    list_filter = ["purpose", "channel", "delivery_status", "trusted"]
    search_fields = ["phone"]
    readonly_fields = [f.name for f in OtpChallenge._meta.fields if f.name != "nonce"]
    exclude = ["nonce"]

    def get_queryset(self, request: HttpRequest):
        return _of_business_phones(request, super().get_queryset(request), "phone")

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

    def get_queryset(self, request: HttpRequest):
        return _of_business_phones(request, super().get_queryset(request), "phone")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


def _of_business_phones(request: HttpRequest, queryset: QuerySet, field: str) -> QuerySet:
    """Sign-in records are the platform's: a manager sees those of their businesses' people only."""
    if request.user.is_superuser:
        return queryset
    return queryset.filter(**{f"{field}__in": business_phones(request)})


# django-axes' sign-in records (AXES_ENABLE_ADMIN is off so that they are registered here, once): the same lists
# and actions as axes' own, with the date drill-down that answers an out-of-range year as a bad filter, not a 500.
# A manager (the Managers group) sees, and lifts, the lockouts of their businesses' people only.
@admin.register(AccessAttempt)
class AccessAttemptAdmin(SafeDateHierarchyMixin, axes_admin.AccessAttemptAdmin):
    def get_queryset(self, request: HttpRequest):
        return _of_business_phones(request, super().get_queryset(request), "username")

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("cleanup_expired_attempts", None)  # cleans everyone's, not the selected rows
        return actions

    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request: HttpRequest, queryset) -> None:
        # axes' own reads the time its middleware stamps on a sign-in request only (an admin page has none: 500).
        request.axes_attempt_time = timezone.now()  # type: ignore[attr-defined]
        super().cleanup_expired_attempts(request, queryset)


@admin.register(AccessLog)
class AccessLogAdmin(SafeDateHierarchyMixin, axes_admin.AccessLogAdmin):
    def get_queryset(self, request: HttpRequest):
        return _of_business_phones(request, super().get_queryset(request), "username")


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(SafeDateHierarchyMixin, axes_admin.AccessFailureLogAdmin):
    def get_queryset(self, request: HttpRequest):
        return _of_business_phones(request, super().get_queryset(request), "username")
