"""Bookings in the admin: read-only rows; status changes go through the services (actions), so the transition
table, the audit trail and the domain events apply exactly as they do for the API."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.phone import InvalidPhone, normalize_phone
from apps.bookings import services
from apps.bookings.models import Booking, BookingStatusChange
from apps.core.errors import DomainError


class BookingStatusChangeInline(admin.TabularInline):
    model = BookingStatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "reason", "old_start", "new_start"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False


def _run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Booking],
    action: Callable[[Booking], object],
    done: str,
) -> None:
    ok = 0
    for booking in queryset.order_by("pk"):
        try:
            action(booking)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"#{booking.pk}: {exc.message}", messages.WARNING)
    if ok:
        modeladmin.message_user(request, f"{done}: {ok}", messages.SUCCESS)


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["id", "start", "staff", "service", "customer", "status", "price_display", "created_at"]
    list_filter = ["status", "staff", ("start", admin.DateFieldListFilter), "service"]
    list_select_related = ["staff", "service", "customer"]
    search_fields = ["customer__phone", "customer__name", "=id"]
    date_hierarchy = "start"
    ordering = ["-start"]
    inlines = [BookingStatusChangeInline]
    fields = [
        "customer",
        "staff",
        "service",
        "status",
        "start",
        "end",
        "busy_start",
        "busy_end",
        "price_amount",
        "currency",
        "hold_expires_at",
        "cancel_reason",
        "notes",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [f for f in fields if f != "notes"]
    actions = ["confirm_bookings", "cancel_bookings", "complete_bookings", "no_show_bookings", "expire_bookings"]

    @admin.display(description=_("price"))
    def price_display(self, obj: Booking) -> str:
        return obj.price.format()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # People type phones as 0501234567 or +966 50 ...; the database holds E.164.
        with contextlib.suppress(InvalidPhone):
            search_term = normalize_phone(search_term)
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bookings are made through the API (booking_create), which enforces every rule

    def has_delete_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False  # cancel instead: the history and the payment stay consistent

    @admin.action(description=_("Confirm (paid outside the app)"))
    def confirm_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_confirm(booking_id=b.pk, actor=request.user, reason="admin"),
            "Confirmed",
        )

    @admin.action(description=_("Cancel (by the business)"))
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_cancel(booking_id=b.pk, actor=request.user, reason="admin"),
            "Cancelled",
        )

    @admin.action(description=_("Mark completed"))
    def complete_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_complete(booking_id=b.pk, actor=request.user),
            "Completed",
        )

    @admin.action(description=_("Mark no-show"))
    def no_show_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_mark_no_show(booking_id=b.pk, actor=request.user),
            "Marked no-show",
        )

    @admin.action(description=_("Expire unpaid holds that ran out"))
    def expire_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(self, request, queryset, lambda b: services.booking_expire(booking_id=b.pk, actor=request.user), "Expired")
