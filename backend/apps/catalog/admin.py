"""The catalog in the admin: the business settings, services, staff with their weekly hours and time off inline,
and closures. Managers edit everything; a staff member sees their own profile and schedule, read-only.

Time off never lands on a booking: the exception form takes the staff member's row lock (the one
`bookings.services.booking_create` and `catalog.services.time_off_create` take) inside the admin's transaction,
refuses time off over bookings with a form error, and new time off is written by `time_off_create` itself. A
booking made at the same moment therefore either comes first (the time off is refused) or waits for the save
(and is refused itself).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import ManagerAccessMixin, is_manager
from apps.accounts.models import User
from apps.catalog.busy import busy_intervals
from apps.catalog.models import Business, Closure, ScheduleException, Service, Staff, WorkingHours
from apps.catalog.selectors import business_tz_for
from apps.catalog.services import time_off_create
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.core.scoping import ScopedModelChoiceField


def rendered(response):
    """Render a TemplateResponse now (inside a `timezone.override`), not after the view has returned."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response


class BusinessTimeZoneMixin:
    """Show and take dates and times in the business time zone, whatever the server's TIME_ZONE. The page is
    rendered inside the override too: a form shows its times in the zone it reads them back in."""

    def changelist_view(self, request: HttpRequest, extra_context=None):
        with timezone.override(business_tz_for(request.user)):
            return rendered(super().changelist_view(request, extra_context))  # type: ignore[misc]

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        with timezone.override(business_tz_for(request.user)):
            return rendered(super().changeform_view(request, object_id, form_url, extra_context))  # type: ignore[misc]


class TimeOffForm(forms.ModelForm):
    """A schedule exception; time off is refused while bookings hold time in it (checked under the staff lock)."""

    class Meta:
        model = ScheduleException
        fields = ["staff", "kind", "start", "end", "reason"]
        # The admin gives the real choices per request, in the user's business scope; at import there is none.
        field_classes = {"staff": ScopedModelChoiceField}

    def clean(self):
        data = super().clean()
        staff_id = self.instance.staff_id if "staff" not in self.fields else getattr(data.get("staff"), "pk", None)
        start, end = data.get("start"), data.get("end")
        if data.get("kind") != ScheduleException.Kind.TIME_OFF or not (staff_id and start and end and start < end):
            return data
        if transaction.get_connection().in_atomic_block:
            # Held until the admin's transaction commits: no booking can slip in between this check and the save.
            Staff.objects.select_for_update(no_key=True).filter(pk=staff_id).values_list("pk").first()
        busy = busy_intervals(staff_ids=[staff_id], start=start, end=end).get(staff_id) or []
        if busy:
            times = ", ".join(
                f"{formats.date_format(timezone.localtime(i.start), 'SHORT_DATETIME_FORMAT')}"
                f" – {formats.time_format(timezone.localtime(i.end), 'TIME_FORMAT')}"
                for i in busy[:5]
            )
            raise forms.ValidationError(
                _("Bookings fall in this time (%(times)s). Move or cancel them first."),
                code="time_off_conflicts_with_bookings",
                params={"times": times},
            )
        return data


def _save_exception(obj: ScheduleException) -> ScheduleException:
    """New time off through the locked service; anything else (extra hours, edits) as a plain save."""
    if obj.pk is None and obj.kind == ScheduleException.Kind.TIME_OFF:
        created = time_off_create(staff_id=obj.staff_id, start=obj.start, end=obj.end, reason=obj.reason)
        obj.pk = created.pk
        obj._state.adding = False
        return obj
    obj.save()
    return obj


@admin.register(Business)
class BusinessAdmin(ManagerAccessMixin, admin.ModelAdmin):
    list_display = ["name_en", "name_ar", "slug", "category", "is_active", "is_listed"]
    list_filter = ["category", "is_active", "is_listed"]
    search_fields = ["name_en", "name_ar", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "slug",
                    "name_en",
                    "name_ar",
                    "description_en",
                    "description_ar",
                    "category",
                    "contact_phone",
                    "logo_url",
                    "vat_number",
                    "is_active",
                    "is_listed",
                ]
            },
        ),
        (_("Home services"), {"fields": ["serves_at_home", "service_area"]}),
        (_("Messages and money"), {"fields": ["sender_name", "commission_bps"]}),
        (_("Time"), {"fields": ["timezone", "currency"]}),
        (_("Availability"), {"fields": ["slot_step_minutes", "min_notice_minutes", "max_advance_days"]}),
        (
            _("Bookings"),
            {
                "fields": [
                    "require_payment",
                    "hold_minutes",
                    "max_pending_per_customer",
                    "max_upcoming_per_customer",
                    "cancellation_cutoff_hours",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(ManagerAccessMixin, admin.ModelAdmin):
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


class WorkingHoursInline(ManagerAccessMixin, admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["weekday", "start_time", "end_time"]
    ordering = ["weekday", "start_time"]


class ScheduleExceptionInline(ManagerAccessMixin, admin.TabularInline):
    """Recent and upcoming exceptions only (the last 30 days on); the full history is under Schedule exceptions."""

    model = ScheduleException
    form = TimeOffForm
    extra = 0
    fields = ["kind", "start", "end", "reason"]
    ordering = ["start"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(end__gte=timezone.now() - timedelta(days=30))


@admin.register(Staff)
class StaffAdmin(ManagerAccessMixin, BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["display_name", "user", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["is_active", "services"]
    search_fields = ["display_name", "user__phone", "user__name"]
    list_select_related = ["user"]
    ordering = ["display_order", "id"]
    filter_horizontal = ["services"]
    fields = ["user", "display_name", "bio", "photo_url", "services", "is_active", "display_order"]
    inlines = [WorkingHoursInline, ScheduleExceptionInline]

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        return qs if is_manager(request.user) else qs.filter(user_id=request.user.pk)  # staff: their own profile

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not ScheduleException:
            return super().save_formset(request, form, formset, change)
        for obj in formset.save(commit=False):
            _save_exception(obj)
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()
        return None

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user":  # people with the staff role (and whoever is linked already)
            kwargs["queryset"] = User.objects.filter(Q(role=User.Role.STAFF) | Q(staff_profile__isnull=False)).order_by(
                "name", "phone"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(SafeDateHierarchyMixin, ManagerAccessMixin, BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["staff", "kind", "start", "end", "reason"]
    list_filter = ["kind", "staff"]
    list_select_related = ["staff"]
    search_fields = ["staff__display_name", "reason"]
    date_hierarchy = "start"
    ordering = ["-start"]
    form = TimeOffForm

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        return qs if is_manager(request.user) else qs.filter(staff__user_id=request.user.pk)

    def get_list_filter(self, request: HttpRequest):
        return self.list_filter if is_manager(request.user) else ["kind"]

    def save_model(self, request: HttpRequest, obj: ScheduleException, form, change: bool) -> None:
        _save_exception(obj)


@admin.register(Closure)
class ClosureAdmin(SafeDateHierarchyMixin, ManagerAccessMixin, admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    ordering = ["-start_date"]
