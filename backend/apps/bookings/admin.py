"""Bookings in the admin, the managers' daily tool: read-only rows; every change goes through the services
(actions, and the reschedule and cancel pages), so the transition table, the audit trail and the domain events
apply exactly as they do for the API, with the admin user recorded as the actor.

A manager sees the bookings of the businesses they run (`apps.catalog.admin_access`); a staff member sees only
the bookings with them (and may complete, mark no-show, reschedule or cancel those, as the services allow the
booking's staff member). A manager of A who is staff at B: A's bookings, and their own at B. Apps above bookings add their own
rows to the booking page with `register_booking_inline` (payments and notifications do; bookings never imports
them), which fills the `booking_inlines` registry (`apps.core.registry.Hooks`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts.admin import is_manager, manages, phone_search_prefix
from apps.bookings import services
from apps.bookings.models import Booking, BookingStatusChange
from apps.catalog.admin import BusinessTimeZoneMixin, rendered
from apps.catalog.admin_access import BusinessAdminMixin, BusinessInlineMixin
from apps.catalog.selectors import business_tz_for
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.core.errors import DomainError
from apps.core.registry import Hooks

# Actions a staff member may run on their own bookings (the services check it is theirs). The rest: managers only.
STAFF_ACTIONS = frozenset(
    {"complete_bookings", "no_show_bookings", "reschedule_booking", "cancel_bookings", "cancel_with_reason"}
)


# Inlines of the apps above bookings, shown on the booking page after this app's own.
booking_inlines: Hooks[type[InlineModelAdmin]] = Hooks("bookings.booking_inlines")


def register_booking_inline(inline: type[InlineModelAdmin]) -> type[InlineModelAdmin]:
    """Show `inline` (rows of an app above bookings: payments, notifications) on the booking page.

    Call it at import time from that app's `admin.py` (or decorate the inline with it). Registering the same
    inline twice changes nothing. Tests swap the list with `booking_inlines.override(...)`.
    """
    return booking_inlines.register(inline)


class WhenFilter(admin.SimpleListFilter):
    """Today, tomorrow, this week (Sunday to Saturday, the Saudi week), the next 7 days, or the past, in the
    business time zone."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin):
        return [
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("week", _("This week")),
            ("next7", _("Next 7 days")),
            ("past", _("Past")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Booking]):
        value = self.value()
        if not value:
            return queryset
        tz = business_tz_for(request.user)
        now = timezone.now()
        today = now.astimezone(tz).date()

        def midnight(days: int) -> datetime:
            return datetime.combine(today + timedelta(days=days), time.min, tzinfo=tz)

        week_start = -((today.weekday() + 1) % 7)  # days back to Sunday (Monday is 0)
        bounds = {
            "today": (midnight(0), midnight(1)),
            "tomorrow": (midnight(1), midnight(2)),
            "week": (midnight(week_start), midnight(week_start + 7)),
            "next7": (now, now + timedelta(days=7)),
        }
        if value == "past":
            return queryset.filter(start__lt=now)
        if value in bounds:
            start, end = bounds[value]
            return queryset.filter(start__gte=start, start__lt=end)
        return queryset


class BookingStatusChangeInline(BusinessInlineMixin, admin.TabularInline):
    model = BookingStatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "reason", "old_start", "new_start"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    verbose_name_plural = _("history")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False


class RescheduleForm(forms.Form):
    date = forms.DateField(label=_("New date"), widget=admin.widgets.AdminDateWidget)
    time = forms.TimeField(label=_("New time"), widget=admin.widgets.AdminTimeWidget(format="%H:%M"))
    reason = forms.CharField(label=_("Reason (for the history)"), max_length=500, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("The customer reads it in the cancellation message."),
    )


@admin.register(Booking)
class BookingAdmin(SafeDateHierarchyMixin, BusinessAdminMixin, BusinessTimeZoneMixin, admin.ModelAdmin):
    list_display = ["id", "start", "staff", "service", "customer", "status", "price_display"]
    list_display_links = ["id", "start"]
    list_filter = [
        WhenFilter,
        ("staff", admin.RelatedOnlyFieldListFilter),
        "status",
        ("start", admin.DateFieldListFilter),
        ("service", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["staff", "service", "customer"]
    own_row_actions = STAFF_ACTIONS
    search_fields = ["customer__phone", "customer__name", "=id"]
    search_help_text = _("A customer's phone (any form: 0501234567, +966 50 123 4567), name, or a booking number.")
    date_hierarchy = "start"
    ordering = ["-start"]
    list_per_page = 50
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
        "price_net",
        "price_vat",
        "vat_rate_bps",
        "currency",
        "hold_expires_at",
        "cancel_reason",
        "customer_confirmed_at",
        "notes",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [f for f in fields if f != "notes"]
    actions = [
        "confirm_bookings",
        "complete_bookings",
        "no_show_bookings",
        "reschedule_booking",
        "cancel_bookings",
        "cancel_with_reason",
        "expire_bookings",
    ]

    @property
    def inlines(self):
        """The history, then the rows of the apps above (`booking_inlines`), as registered now. A property rather
        than `get_inlines()` so that the admin's system checks see the registered inlines too."""
        return [BookingStatusChangeInline, *booking_inlines.all()]

    # --- who sees what ----------------------------------------------------------------------------------------

    def own_rows(self, request: HttpRequest) -> Q:
        return Q(staff__user_id=request.user.pk)  # a staff member: the bookings with them, nothing else

    def get_list_filter(self, request: HttpRequest):
        if is_manager(request):
            return self.list_filter  # the staff filter lists the staff of the rows shown only (RelatedOnly)
        return [f for f in self.list_filter if not (isinstance(f, tuple) and f[0] == "staff")]

    def get_ordering(self, request: HttpRequest):
        # Upcoming days read from the first appointment on; the past (and everything) from the latest.
        return ["start", "id"] if request.GET.get("when") in {"today", "tomorrow", "week", "next7"} else ["-start"]

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not is_manager(request):
            actions = {name: action for name, action in actions.items() if name in STAFF_ACTIONS}
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bookings are made through the API (booking_create), which enforces every rule

    def has_delete_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False  # cancel instead: the history and the payment stay consistent

    def _may_act(self, request: HttpRequest, booking: Booking) -> bool:
        """Run the status pages (reschedule, cancel) on this booking: its business's manager, or its staff
        member with the permission to act (the services check it again)."""
        if manages(request, booking.business_id):
            return True
        return booking.staff.user_id == request.user.pk and super().has_change_permission(request)

    # --- list and page ----------------------------------------------------------------------------------------

    @admin.display(description=_("price"), ordering="price_amount")
    def price_display(self, obj: Booking) -> str:
        return obj.price.format()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # People type phones as 0501234567, +966 50 ... or 966...; the database holds E.164.
        found, duplicates = super().get_search_results(request, queryset, search_term)
        prefix = phone_search_prefix(search_term)
        if prefix:  # `queryset` comes with the list filters (and the staff member's limit) applied already
            found |= queryset.filter(customer__phone__startswith=prefix)
        return found, duplicates

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        booking = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_move": bool(booking and booking.holds_time and self._may_act(request, booking)),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/reschedule/",
                self.admin_site.admin_view(self.reschedule_view),
                name=f"{name}_reschedule",
            ),
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view), name=f"{name}_cancel"),
            *super().get_urls(),
        ]

    def _booking_or_404(self, request: HttpRequest, object_id: str) -> Booking:
        booking = self.get_object(request, object_id)  # through get_queryset: someone else's booking is a 404
        if booking is None:
            raise Http404
        if not self._may_act(request, booking):
            raise PermissionDenied
        return booking

    def _change_url(self, booking: Booking) -> str:
        return reverse(f"{self.admin_site.name}:bookings_booking_change", args=[booking.pk])

    def _page(self, request: HttpRequest, template: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/bookings/booking/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    # --- reschedule -------------------------------------------------------------------------------------------

    def reschedule_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for the new local date and time, then move the booking with `booking_reschedule`."""
        booking = self._booking_or_404(request, object_id)
        tz = booking.business.tz
        with timezone.override(tz):
            local = timezone.localtime(booking.start)
            form = RescheduleForm(
                request.POST if request.method == "POST" else None,
                initial={"date": local.date(), "time": local.time()},
            )
            if request.method == "POST" and form.is_valid():
                start = datetime.combine(form.cleaned_data["date"], form.cleaned_data["time"], tzinfo=tz)
                try:
                    services.booking_reschedule(
                        booking_id=booking.pk, start=start, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                except DomainError as exc:
                    form.add_error(None, str(exc.message))
                else:
                    self.message_user(
                        request,
                        _("Booking #%(id)s moved to %(when)s.")
                        % {"id": booking.pk, "when": start.strftime("%Y-%m-%d %H:%M")},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._change_url(booking))
            return rendered(
                self._page(
                    request,
                    "reschedule.html",
                    title=_("Reschedule booking #%(id)s") % {"id": booking.pk},
                    booking=booking,
                    original=booking,
                    form=form,
                    media=self.media + form.media,
                    timezone_name=str(tz),
                )
            )

    @admin.action(description=_("Reschedule…"), permissions=["change"])
    def reschedule_booking(self, request: HttpRequest, queryset: QuerySet[Booking]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one booking to reschedule."), messages.WARNING)
            return None
        booking = queryset.get()
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:bookings_booking_reschedule", args=[booking.pk]))

    # --- cancel with a reason ---------------------------------------------------------------------------------

    def _cancel_page(self, request: HttpRequest, queryset: QuerySet[Booking], *, posted: bool, single: bool):
        form = CancelForm(request.POST if posted else None)
        if posted and form.is_valid():
            _run(
                self,
                request,
                queryset,
                lambda b: services.booking_cancel(
                    booking_id=b.pk, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                _done_cancelled,
            )
            return None
        bookings = list(queryset.select_related("staff", "service", "customer").order_by("start"))
        with timezone.override(business_tz_for(request.user)):
            return rendered(
                self._page(
                    request,
                    "cancel.html",
                    title=_("Cancel bookings"),
                    bookings=bookings,
                    form=form,
                    single=single,
                    action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
                )
            )

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        booking = self._booking_or_404(request, object_id)
        response = self._cancel_page(
            request, self.get_queryset(request).filter(pk=booking.pk), posted=request.method == "POST", single=True
        )
        return response or HttpResponseRedirect(self._change_url(booking))

    @admin.action(description=_("Cancel with a reason for the customer…"), permissions=["change"])
    def cancel_with_reason(self, request: HttpRequest, queryset: QuerySet[Booking]) -> HttpResponse | None:
        return self._cancel_page(request, queryset, posted="apply" in request.POST, single=False)

    # --- one-click actions ------------------------------------------------------------------------------------

    @admin.action(description=_("Confirm (paid outside the app)"), permissions=["change"])
    def confirm_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        if not is_manager(request):
            self.message_user(request, _("Only managers can do this."), messages.ERROR)
            return
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_confirm(booking_id=b.pk, actor=request.user, reason="confirmed in the admin"),
            _done_confirmed,
        )

    @admin.action(description=_("Cancel (by the business)"), permissions=["change"])
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_cancel(booking_id=b.pk, actor=request.user),
            _done_cancelled,
        )

    @admin.action(description=_("Mark completed"), permissions=["change"])
    def complete_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_complete(booking_id=b.pk, actor=request.user),
            _done_completed,
        )

    @admin.action(description=_("Mark no-show"), permissions=["change"])
    def no_show_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_mark_no_show(booking_id=b.pk, actor=request.user),
            _done_no_show,
        )

    @admin.action(description=_("Expire unpaid holds that ran out"), permissions=["change"])
    def expire_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        if not is_manager(request):
            self.message_user(request, _("Only managers can do this."), messages.ERROR)
            return
        _run(
            self,
            request,
            queryset,
            lambda b: services.booking_expire(booking_id=b.pk, actor=request.user),
            _done_expired,
        )


def _done_confirmed(n: int) -> str:
    return ngettext("%d booking confirmed.", "%d bookings confirmed.", n) % n


def _done_cancelled(n: int) -> str:
    return ngettext("%d booking cancelled.", "%d bookings cancelled.", n) % n


def _done_completed(n: int) -> str:
    return ngettext("%d booking marked completed.", "%d bookings marked completed.", n) % n


def _done_no_show(n: int) -> str:
    return ngettext("%d booking marked no-show.", "%d bookings marked no-show.", n) % n


def _done_expired(n: int) -> str:
    return ngettext("%d booking expired.", "%d bookings expired.", n) % n


def _run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Booking],
    action: Callable[[Booking], object],
    done: Callable[[int], str],
) -> None:
    """Run a service on each booking (each in its own transaction); a refusal is a message, never a 500."""
    ok = 0
    for booking in queryset.order_by("pk"):
        try:
            action(booking)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"#{booking.pk}: {exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, done(ok), messages.SUCCESS)
