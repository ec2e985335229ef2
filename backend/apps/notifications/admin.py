"""Notifications in the admin: every message with its delivery attempts, a "send again" action for the ones that
failed or whose outcome is unknown, and, on each booking's page, the messages about that booking (added to the
booking admin from here: bookings never imports notifications). A manager sees the messages of the businesses they
run (`apps.catalog.admin_access`); account messages (no business) are the platform's. WhatsApp's webhook items and
contacts are the platform's alone (superusers, read-only): they are Meta's account-wide records, not a
business's."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.bookings.admin import register_booking_inline
from apps.catalog.admin_access import BusinessAdminMixin, BusinessInlineMixin
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.notifications.models import Notification, NotificationAttempt, WhatsAppContact, WhatsAppEvent
from apps.notifications.services import RETRYABLE_BY_HAND, notification_retry


class NotificationAttemptInline(BusinessInlineMixin, admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    can_delete = False
    fields = ["number", "outcome", "error", "job_id", "started_at", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False


class _BookingNotificationFormSet(BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls) -> str:
        return "notifications"  # the foreign key has no reverse name ("+"), which would leave the prefix empty


class BookingNotificationInline(BusinessInlineMixin, admin.TabularInline):
    """The messages about one booking, on the booking's page (read-only; open one to send it again)."""

    model = Notification
    formset = _BookingNotificationFormSet
    fk_name = "booking"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "created_at",
        "template",
        "channel",
        "recipient",
        "status",
        "attempts",
        "scheduled_for",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    verbose_name_plural = _("notifications")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("recipient")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


register_booking_inline(BookingNotificationInline)


@admin.register(Notification)
class NotificationAdmin(SafeDateHierarchyMixin, BusinessAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "template",
        "channel",
        "recipient",
        "language",
        "status",
        "delivery_status",
        "attempts",
        "booking_id",
        "scheduled_for",
        "sent_at",
        "created_at",
    ]
    list_filter = ["status", "channel", "delivery_status", "template", "language"]
    search_fields = ["event_key", "booking__id", "recipient__phone", "recipient__name"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [NotificationAttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    @admin.action(description=_("Send again (failed or outcome unknown)"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.filter(status__in=RETRYABLE_BY_HAND).values_list("pk", flat=True))
        done = sum(notification_retry(notification_id=pk) for pk in ids)
        skipped = queryset.count() - done
        if done:
            self.message_user(
                request,
                ngettext("%d notification will be sent again.", "%d notifications will be sent again.", done) % done,
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d notification was left alone: only failed or unknown ones can be sent again.",
                    "%d notifications were left alone: only failed or unknown ones can be sent again.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )


class PlatformReadOnlyAdmin(admin.ModelAdmin):
    """Seen by platform operators (superusers) only, and never changed here: no business's manager or staff member
    sees the module, its list or its rows, whatever permissions a group was given by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WhatsAppEvent)
class WhatsAppEventAdmin(SafeDateHierarchyMixin, PlatformReadOnlyAdmin):
    """Each WhatsApp webhook item as received (a status of one of our messages, or an inbound message) and what
    its processing job made of it; payloads are blanked after the retention period (docs/privacy.md)."""

    list_display = ["id", "kind", "key", "received_at", "processed_at", "outcome"]
    list_filter = ["kind", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "outcome"]
    date_hierarchy = "received_at"
    ordering = ["-received_at", "-id"]
    list_per_page = 50
    fields = ["key", "kind", "received_at", "processed_at", "outcome", "payload"]
    readonly_fields = fields


@admin.register(WhatsAppContact)
class WhatsAppContactAdmin(PlatformReadOnlyAdmin):
    """The WhatsApp users we talk to: when they last wrote (the 24-hour window) and whether they asked to stop."""

    list_display = ["wa_id", "last_inbound_at", "opted_out_at"]
    list_filter = [("opted_out_at", admin.EmptyFieldListFilter)]
    search_fields = ["wa_id"]
    ordering = ["wa_id"]
    list_per_page = 50
    fields = ["wa_id", "last_inbound_at", "opted_out_at"]
    readonly_fields = fields
