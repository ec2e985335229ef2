"""The catalog in the admin: businesses, branches, memberships, services, staff with their weekly hours and time
off inline, and closures. Platform operators (superusers) see every business; a manager (owner or manager
membership) edits the rows of the businesses they run and nothing else (`apps.catalog.admin_access`); a staff
member sees their own profile and schedule, read-only, and their business's services and closures.

Time off never lands on a booking: the exception form takes the staff member's row lock (the one
`bookings.services.booking_create` and `catalog.services.time_off_create` take) inside the admin's transaction,
refuses time off over bookings with a form error, and new time off is written by `time_off_create` itself. A
booking made at the same moment therefore either comes first (the time off is refused) or waits for the save
(and is refused itself).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import ManagerAccessMixin, managed_business_ids, manages
from apps.accounts.models import User
from apps.accounts.phone import InvalidPhone, normalize_phone
from apps.catalog import seasons
from apps.catalog.admin_access import EVERYTHING, BusinessAdminMixin, BusinessInlineMixin
from apps.catalog.busy import busy_intervals
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Season,
    SeasonalHours,
    Service,
    Staff,
    WorkingHours,
)
from apps.catalog.selectors import business_tz_for, vat_unreachable_prices
from apps.catalog.services import (
    AlreadyMember,
    membership_access_sync,
    membership_add,
    time_off_create,
    working_hours_default,
)
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.core.errors import ValidationFailed
from apps.core.money import Money
from apps.core.scoping import ScopedModelChoiceField, platform


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


def _own_schedule(request: HttpRequest) -> Q:
    return Q(staff__user_id=request.user.pk)


@admin.register(Business)
class BusinessAdmin(ManagerAccessMixin, admin.ModelAdmin):
    """Platform operators add and edit any business; its owners and managers edit its profile and policies (not
    the platform's commission, nor whether it is active); nobody deletes one (bookings and payments point at
    it: switch it off)."""

    list_display = ["name_en", "name_ar", "slug", "category", "is_active", "is_listed"]
    list_filter = ["category", "is_active", "is_listed"]
    search_fields = ["name_en", "name_ar", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    # What only the platform decides.
    platform_fields = ("commission_bps", "is_active")
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
        (_("Messages and money"), {"fields": ["sender_name", "default_notify_channel", "staff_agenda_time", "commission_bps"]}),
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
                    "staff_see_all_bookings",
                ]
            },
        ),
        (
            _("Payment policy"),
            {
                "fields": [
                    "payment_policy",
                    "deposit_amount",
                    "deposit_percent",
                    "late_cancel_fee_amount",
                    "late_cancel_fee_percent",
                    "keep_deposit_on_no_show",
                    "keep_deposit_on_late_cancel",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Business]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk__in=managed_business_ids(request))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, *self.platform_fields]

    def get_prepopulated_fields(self, request: HttpRequest, obj=None):
        return self.prepopulated_fields if request.user.is_superuser else {}

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Business | None = None) -> bool:
        if obj is None:
            return super().has_change_permission(request)
        return manages(request, obj.pk)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Business, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        unreachable = vat_unreachable_prices(obj)
        if unreachable:
            self.message_user(
                request,
                _(
                    "VAT-registered: no tax invoice can total these prices, so each is charged as shown after the "
                    "arrow until you change it: %(prices)s."
                )
                % {
                    "prices": "; ".join(
                        f"{u.name} {Money(u.price_amount, obj.currency).format()} → "
                        f"{Money(u.charged_amount, obj.currency).format()}"
                        for u in unreachable
                    )
                },
                messages.WARNING,
            )


@admin.register(Branch)
class BranchAdmin(BusinessAdminMixin, admin.ModelAdmin):
    list_display = ["name_en", "name_ar", "business", "city", "district", "is_active", "display_order"]
    list_filter = ["is_active", "city"]
    search_fields = ["name_en", "name_ar", "city", "district"]
    list_select_related = ["business"]
    ordering = ["business", "display_order", "id"]
    fields = [
        "business",
        "name_en",
        "name_ar",
        "city",
        "district",
        "address",
        "latitude",
        "longitude",
        "contact_phone",
        "is_active",
        "display_order",
    ]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # staff and bookings point at it: switch it off


class MembershipForm(forms.ModelForm):
    """A new member by phone number (their account, created when they have none: one account everywhere); a
    member's role afterwards. Nobody picks from the platform's list of people."""

    phone = forms.CharField(label=_("phone number"), max_length=32, required=False)
    name = forms.CharField(label=_("name (for a new account)"), max_length=150, required=False)

    class Meta:
        model = Membership
        fields = ["business", "role"]

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone") or ""
        if self.instance.pk is not None:
            return ""
        try:
            return normalize_phone(raw)
        except InvalidPhone as exc:
            raise forms.ValidationError(
                exc.args[0] if exc.args else _("Enter a valid phone number."), code="phone"
            ) from exc


@admin.register(Membership)
class MembershipAdmin(BusinessAdminMixin, admin.ModelAdmin):
    """A business's owners, managers and staff. Its managers add and change members; only an owner (or the
    platform) adds, changes or removes an owner."""

    form = MembershipForm
    list_display = ["user", "business", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "business"]
    search_fields = ["user__name", "user__phone"]
    ordering = ["business", "role", "id"]

    def get_fields(self, request: HttpRequest, obj=None):
        return ["business", "phone", "name", "role"] if obj is None else ["business", "user", "role", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [] if obj is None else ["business", "user", "created_at"]

    def _owns(self, request: HttpRequest, business_id: int) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        with platform():
            mine = Membership.objects.filter(business_id=business_id, role=Membership.Role.OWNER)
            return mine.filter(user__pk=int(user.pk or 0)).exists()

    def _may_touch(self, request: HttpRequest, obj: Membership) -> bool:
        return manages(request, obj.business_id) and (
            obj.role != Membership.Role.OWNER or self._owns(request, obj.business_id)
        )

    def has_change_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and not self._may_touch(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and not self._may_touch(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        admin_ = self

        class OwnersOnly(form):  # type: ignore[valid-type, misc]
            def clean(self):
                data = super().clean()
                business_id = self.instance.business_id
                if data.get("role") == Membership.Role.OWNER and business_id and not admin_._owns(request, business_id):
                    self.add_error("role", forms.ValidationError(_("Only an owner makes an owner."), code="owner"))
                phone = data.get("phone")
                if self.instance.pk is None and not phone and "phone" not in self.errors:
                    self.add_error("phone", forms.ValidationError(_("This field is required."), code="required"))
                elif (
                    self.instance.pk is None
                    and phone
                    and business_id
                    and Membership.objects.filter(business_id=business_id, user__phone=phone).exists()
                ):
                    self.add_error("phone", forms.ValidationError(AlreadyMember.message, code=AlreadyMember.code))
                return data

        return OwnersOnly

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        if change:
            obj.save()
            membership_access_sync(obj.user)
            return
        try:
            created = membership_add(
                business_id=obj.business_id,
                phone=form.cleaned_data["phone"],
                role=obj.role,
                name=form.cleaned_data.get("name") or "",
            )
        except AlreadyMember as exc:  # raced with another add: the form checked it a moment ago
            raise forms.ValidationError(str(exc.message)) from exc
        obj.pk, obj.user = created.pk, created.user
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        user = obj.user
        super().delete_model(request, obj)
        membership_access_sync(user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        users = [m.user for m in queryset.select_related("user")]
        super().delete_queryset(request, queryset)
        for user in users:
            membership_access_sync(user)


@admin.register(Service)
class ServiceAdmin(BusinessAdminMixin, admin.ModelAdmin):
    list_display = ["name_en", "name_ar", "duration_minutes", "price_display", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["is_active"]
    search_fields = ["name_en", "name_ar"]
    ordering = ["display_order", "id"]
    filter_horizontal = ["branches"]
    fieldsets = [
        (None, {"fields": ["business", "name_en", "name_ar", "description_en", "description_ar", "branches"]}),
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
        (
            _("Payment policy"),
            {
                "fields": [
                    "payment_policy",
                    "deposit_amount",
                    "deposit_percent",
                    "late_cancel_fee_amount",
                    "late_cancel_fee_percent",
                ]
            },
        ),
        (_("Display"), {"fields": ["is_active", "display_order"]}),
    ]

    def own_rows(self, request: HttpRequest) -> Q:
        return EVERYTHING  # a staff member sees their business's services (read-only)

    @admin.display(description=_("price"), ordering="price_amount")
    def price_display(self, obj: Service) -> str:
        return obj.price.format()


class WorkingHoursInline(BusinessInlineMixin, admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["weekday", "start_time", "end_time"]
    ordering = ["weekday", "start_time"]


class ScheduleExceptionInline(BusinessInlineMixin, admin.TabularInline):
    """Recent and upcoming exceptions only (the last 30 days on); the full history is under Schedule exceptions."""

    model = ScheduleException
    form = TimeOffForm
    extra = 0
    fields = ["kind", "start", "end", "reason"]
    ordering = ["start"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(end__gte=timezone.now() - timedelta(days=30))


@admin.register(Staff)
class StaffAdmin(BusinessAdminMixin, BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["display_name", "user", "branch", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = [
        "is_active",
        ("branch", admin.RelatedOnlyFieldListFilter),
        ("services", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["display_name", "user__phone", "user__name"]
    list_select_related = ["user", "branch"]
    ordering = ["display_order", "id"]
    filter_horizontal = ["services"]
    fields = ["user", "branch", "display_name", "bio", "photo_url", "services", "is_active", "display_order"]
    inlines = [WorkingHoursInline, ScheduleExceptionInline]

    def own_rows(self, request: HttpRequest) -> Q:
        return Q(user_id=request.user.pk)  # a staff member: their own profile

    def save_model(self, request: HttpRequest, obj: Staff, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The person behind a profile is a member of its business (staff, unless they manage it already).
        _membership, created = Membership.objects.get_or_create(
            business_id=obj.business_id, user_id=obj.user_id, defaults={"role": Membership.Role.STAFF}
        )
        if created:
            membership_access_sync(obj.user)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change:  # a new profile saved without weekly hours: the default week (Friday, Saturday off)
            working_hours_default(staff=form.instance)

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
        if db_field.name == "user":
            kwargs["queryset"] = _staff_people(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _staff_people(request: HttpRequest) -> QuerySet[User]:
    """Who can be given a staff profile: for a manager, the members of the businesses they run; for the platform,
    also people with the (older) staff role; and whoever has a profile already."""
    if request.user.is_superuser:
        people = Q(role=User.Role.STAFF) | Q(staff_profile__isnull=False) | Q(memberships__isnull=False)
    else:
        people = Q(memberships__business_id__in=managed_business_ids(request))
    return User.objects.filter(pk__in=User.objects.filter(people).values("pk")).order_by("name", "phone")


@admin.register(WorkingHours)
class WorkingHoursAdmin(BusinessAdminMixin, admin.ModelAdmin):
    list_display = ["staff", "weekday", "start_time", "end_time"]
    list_filter = ["weekday", ("staff", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["staff"]
    ordering = ["staff", "weekday", "start_time"]
    fields = ["staff", "weekday", "start_time", "end_time"]

    def own_rows(self, request: HttpRequest) -> Q:
        return _own_schedule(request)


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(SafeDateHierarchyMixin, BusinessAdminMixin, BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["staff", "kind", "start", "end", "reason"]
    list_filter = ["kind", ("staff", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["staff"]
    search_fields = ["staff__display_name", "reason"]
    date_hierarchy = "start"
    ordering = ["-start"]
    form = TimeOffForm

    def own_rows(self, request: HttpRequest) -> Q:
        return _own_schedule(request)

    def save_model(self, request: HttpRequest, obj: ScheduleException, form, change: bool) -> None:
        _save_exception(obj)


@admin.register(Closure)
class ClosureAdmin(SafeDateHierarchyMixin, BusinessAdminMixin, admin.ModelAdmin):
    list_display = ["name", "business", "branch", "start_date", "end_date"]
    list_select_related = ["business", "branch"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    ordering = ["-start_date"]
    fields = ["business", "branch", "name", "start_date", "end_date"]

    def own_rows(self, request: HttpRequest) -> Q:
        return EVERYTHING  # a staff member sees their business's closures (read-only)


class SeasonalHoursInline(BusinessInlineMixin, admin.TabularInline):
    model = SeasonalHours
    extra = 0
    fields = ["staff", "weekday", "start_time", "end_time"]
    ordering = ["staff", "weekday", "start_time"]


class SeasonForm(forms.ModelForm):
    """The service's checks (apps/catalog/seasons.py): dates, and no other season of the same staff on them."""

    class Meta:
        model = Season
        fields = ["business", "branch", "name_en", "name_ar", "start_date", "end_date"]
        # The admin gives the real choices per request, in the user's business scope; at import there is none.
        field_classes = {"branch": ScopedModelChoiceField}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen, branch = data.get("business"), data.get("branch")
        business_id = self.instance.business_id or (chosen.pk if chosen else None) or (branch and branch.business_id)
        if not business_id or not data.get("start_date") or not data.get("end_date"):
            return data
        with platform():  # one business's rows, named by id (its own access is the scoped form's check)
            # The service's lock, taken before the overlap check: the admin's page is one transaction, so it is
            # held until the season is saved, and two pages saving overlapping seasons at once make one.
            business = Business.objects.select_for_update().get(pk=business_id)
        probe = Season(
            pk=self.instance.pk,
            business_id=business_id,
            branch=branch,
            start_date=data["start_date"],
            end_date=data["end_date"],
        )
        old = (self.initial.get("start_date"), self.initial.get("end_date")) if self.instance.pk else (None, None)
        try:
            seasons.season_check(probe, old=old, today=seasons.local_today(business))
        except ValidationFailed as exc:
            raise forms.ValidationError([m for messages_ in (exc.fields or {}).values() for m in messages_]) from exc
        return data


@admin.register(Season)
class SeasonAdmin(SafeDateHierarchyMixin, BusinessAdminMixin, admin.ModelAdmin):
    """Seasonal hours: the weekly hours of a season replace the staff's usual ones on its dates (the manager API
    adds Ramadan hours in one call: docs/manage-api.md)."""

    form = SeasonForm
    list_display = ["name_en", "name_ar", "business", "branch", "start_date", "end_date"]
    list_select_related = ["business", "branch"]
    search_fields = ["name_en", "name_ar"]
    date_hierarchy = "start_date"
    ordering = ["-start_date"]
    fields = ["business", "branch", "name_en", "name_ar", "start_date", "end_date"]
    inlines = [SeasonalHoursInline]

    def own_rows(self, request: HttpRequest) -> Q:
        return EVERYTHING  # a staff member sees their business's seasons (read-only)

    def save_model(self, request: HttpRequest, obj: Season, form, change: bool) -> None:
        # The service's locks (the admin's page is one transaction): the business row (already taken by the form's
        # check), then the staff it covers, so a booking decided meanwhile sees the old hours or the new ones.
        Business.objects.select_for_update().filter(pk=obj.business_id).first()
        old_branch = form.initial.get("branch") if change else None
        seasons.season_lock_staff(obj.business, {obj.branch_id, old_branch} if change else {obj.branch_id})
        super().save_model(request, obj, form, change)
