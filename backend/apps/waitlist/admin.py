"""The waitlist in the admin, read-only: who waits for what at a business (entries, with their offers inline) and
every offer made (the held booking, until when, what became of it). Rows change only through the services (the
customer joins, leaves, claims or declines; the offer job offers), so nothing is added, edited or deleted here.

Business-scoped like every business-owned admin (`apps.catalog.admin_access.BusinessAdminMixin`): a platform
operator sees every business; a manager (owner or manager membership) sees the rows of the businesses they run
and nothing else; a staff member has no model permission here (the "Staff" group gives none: the line's
customers are the business's, not a staff member's). Times are shown in the business's time zone.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import phone_search_prefix
from apps.catalog.admin import BusinessTimeZoneMixin
from apps.catalog.admin_access import BusinessAdminMixin, BusinessInlineMixin
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.waitlist.models import WaitlistEntry, WaitlistOffer


class ReadOnlyMixin:
    """Nothing added, changed or deleted through the admin (the pages stay viewable)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


OFFER_FIELDS = ("created_at", "staff", "start", "end", "expires_at", "status", "hold", "updated_at")
ENTRY_FIELDS = (
    "customer",
    "service",
    "staff",
    "date_from",
    "date_to",
    "time_from",
    "time_to",
    "status",
    "created_at",
    "updated_at",
)


class WaitlistOfferInline(ReadOnlyMixin, BusinessInlineMixin, admin.TabularInline):
    """An entry's offers, newest first, on the entry's page."""

    model = WaitlistOffer
    extra = 0
    can_delete = False
    show_change_link = True
    fields = OFFER_FIELDS
    readonly_fields = OFFER_FIELDS
    ordering = ["-created_at", "-id"]
    verbose_name_plural = _("offers")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WaitlistOffer]:
        return super().get_queryset(request).select_related("staff", "hold")


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(
    ReadOnlyMixin, SafeDateHierarchyMixin, BusinessAdminMixin, BusinessTimeZoneMixin, admin.ModelAdmin
):
    list_display = [
        "id",
        "customer",
        "service",
        "staff_or_anyone",
        "date_from",
        "date_to",
        "time_from",
        "time_to",
        "status",
        "created_at",
    ]
    list_display_links = ["id", "customer"]
    list_filter = ["status", ("service", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["customer", "service", "staff"]
    search_fields = ["customer__phone", "customer__name", "=id"]
    search_help_text = _("A customer's phone (any form: 0501234567, +966 50 123 4567), name, or an entry number.")
    date_hierarchy = "created_at"
    ordering = ["created_at", "id"]  # the line: first come first
    list_per_page = 50
    fields = ENTRY_FIELDS
    readonly_fields = ENTRY_FIELDS
    inlines = [WaitlistOfferInline]

    @admin.display(description=_("staff member"), ordering="staff__display_name")
    def staff_or_anyone(self, obj: WaitlistEntry) -> str:
        return obj.staff.display_name if obj.staff else str(_("anyone"))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # People type phones as 0501234567, +966 50 ... or 966...; the database holds E.164.
        found, duplicates = super().get_search_results(request, queryset, search_term)
        prefix = phone_search_prefix(search_term)
        if prefix:  # `queryset` is the business's rows (and the filters) already
            found |= queryset.filter(customer__phone__startswith=prefix)
        return found, duplicates


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(
    ReadOnlyMixin, SafeDateHierarchyMixin, BusinessAdminMixin, BusinessTimeZoneMixin, admin.ModelAdmin
):
    list_display = ["id", "entry", "customer", "staff", "start", "expires_at", "status", "hold", "created_at"]
    list_filter = ["status", ("staff", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["entry__customer", "staff", "hold"]
    search_fields = ["entry__customer__phone", "entry__customer__name", "=id", "=hold__id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    fields = ("entry", *OFFER_FIELDS)  # never the token's hash: it is the claim link's secret, hashed
    readonly_fields = ("entry", *OFFER_FIELDS)

    @admin.display(description=_("customer"), ordering="entry__customer__name")
    def customer(self, obj: WaitlistOffer) -> str:
        return str(obj.entry.customer)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        prefix = phone_search_prefix(search_term)
        if prefix:
            found |= queryset.filter(entry__customer__phone__startswith=prefix)
        return found, duplicates
