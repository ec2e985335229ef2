from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.catalog.models import BusinessSettings, Closure, ScheduleException, Service, Staff, WorkingHours


class BusinessTimeZoneMixin:
    """Show and take dates and times in the business time zone, whatever the server's TIME_ZONE."""

    def changelist_view(self, request: HttpRequest, extra_context=None):
        with timezone.override(BusinessSettings.load().tz):
            return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        with timezone.override(BusinessSettings.load().tz):
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]


@admin.register(BusinessSettings)
class BusinessSettingsAdmin(admin.ModelAdmin):
    """A singleton: one row, never added twice, never deleted; the list goes straight to it."""

    fieldsets = [
        (None, {"fields": ["name", "timezone", "currency"]}),
        (_("Availability"), {"fields": ["slot_step_minutes", "min_notice_minutes", "max_advance_days"]}),
        (
            _("Bookings"),
            {"fields": ["require_payment", "hold_minutes", "max_pending_per_customer", "cancellation_cutoff_hours"]},
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BusinessSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        settings = BusinessSettings.load()
        return HttpResponseRedirect(reverse("admin:catalog_businesssettings_change", args=[settings.pk]))


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_ar", "duration_minutes", "price_display", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["is_active"]
    search_fields = ["name_en", "name_ar"]
    ordering = ["display_order", "id"]
    fieldsets = [
        (None, {"fields": ["name_en", "name_ar", "description_en", "description_ar"]}),
        (
            _("Booking"),
            {
                "fields": [
                    "duration_minutes",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                    "price_amount",
                    "currency",
                ]
            },
        ),
        (_("Display"), {"fields": ["is_active", "display_order"]}),
    ]

    @admin.display(description=_("price"), ordering="price_amount")
    def price_display(self, obj: Service) -> str:
        return obj.price.format()


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["weekday", "start_time", "end_time"]
    ordering = ["weekday", "start_time"]


class ScheduleExceptionInline(admin.TabularInline):
    """Recent and upcoming exceptions only (the last 30 days on); the full history is under Schedule exceptions."""

    model = ScheduleException
    extra = 0
    fields = ["kind", "start", "end", "reason"]
    ordering = ["start"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(end__gte=timezone.now() - timedelta(days=30))


@admin.register(Staff)
class StaffAdmin(BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["display_name", "user", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["is_active", "services"]
    search_fields = ["display_name", "user__phone", "user__name"]
    list_select_related = ["user"]
    ordering = ["display_order", "id"]
    filter_horizontal = ["services"]
    fields = ["user", "display_name", "bio", "photo_url", "services", "is_active", "display_order"]
    inlines = [WorkingHoursInline, ScheduleExceptionInline]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user":  # people with the staff role (and whoever is linked already)
            kwargs["queryset"] = User.objects.filter(Q(role=User.Role.STAFF) | Q(staff_profile__isnull=False)).order_by(
                "name", "phone"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["staff", "kind", "start", "end", "reason"]
    list_filter = ["kind", "staff"]
    list_select_related = ["staff"]
    search_fields = ["staff__display_name", "reason"]
    date_hierarchy = "start"
    ordering = ["-start"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    ordering = ["-start_date"]
