"""Payments in the admin: read-only records (the provider is the truth; nobody edits amounts by hand), flags for
inconsistencies, and manager actions (capture, void, refund full or partial, re-read from Moyasar), each asking
for a reason that is recorded. The actions only record and defer jobs; Moyasar is called from the jobs.

A manager sees and acts on the payments of the businesses they run only (`apps.catalog.admin_access`: the
actions get those rows and no others); webhook events that name no business are the platform's."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import is_manager
from apps.bookings.admin import register_booking_inline
from apps.catalog.admin_access import BusinessAdminMixin, BusinessInlineMixin
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.core.errors import DomainError
from apps.core.money import Money
from apps.payments import services
from apps.payments.models import LedgerEntry, Payment, PaymentEvent, Refund, VenuePayment, WebhookEvent
from apps.payments.services import deferrals
from apps.payments.services.state import record


def _is_manager(request: HttpRequest) -> bool:
    """Runs some business (or the platform); the actions get only the rows of the businesses they run."""
    return is_manager(request)


class OperationForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.IntegerField(
        label=_("Amount (minor units)"),
        min_value=1,
        required=False,
        help_text=_("Refund only: leave empty to refund everything left. 15000 = 150.00 SAR."),
    )


class PaymentEventInline(BusinessInlineMixin, admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "from_status", "to_status", "source", "actor", "reason", "data"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefundInline(BusinessInlineMixin, admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "status", "amount", "net", "vat", "reason", "requested_by", "failure_message",
              "completed_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(SafeDateHierarchyMixin, BusinessAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "booking",
        "status",
        "flow",
        "method",
        "card_scheme",
        "amount_display",
        "captured_display",
        "refunded_display",
        "needs_attention",
        "created_at",
    ]
    list_filter = ["needs_attention", "status", "flow", "method", "card_scheme", "mismatch", "is_booking_payment"]
    search_fields = ["=id", "=booking__id", "provider_id", "=given_id"]
    list_select_related = ["booking"]
    date_hierarchy = "created_at"
    inlines = [RefundInline, PaymentEventInline]
    actions = ["capture", "void", "refund", "sync", "clear_flag"]
    fieldsets = [
        (None, {"fields": ["booking", "flow", "method", "card_scheme", "status", "is_booking_payment", "mismatch"]}),
        (_("Attention"), {"fields": ["needs_attention", "attention_reason"]}),
        (
            _("Money (minor units)"),
            {
                "fields": [
                    "amount",
                    "amount_net",
                    "amount_vat",
                    "currency",
                    "authorized_amount",
                    "captured_amount",
                    "refunded_amount",
                    "purpose",
                    "on_cancel",
                    "cancellation_fee",
                ],
            },
        ),
        (
            _("Moyasar"),
            {
                "fields": [
                    "given_id",
                    "provider_id",
                    "provider_status",
                    "card",
                    "message",
                    "response_code",
                    "transaction_url",
                    "provider_raw",
                    "last_synced_at",
                ],
            },
        ),
        (
            _("Timeline"),
            {
                "fields": [
                    "created_at",
                    "authorized_at",
                    "capture_due_at",
                    "captured_at",
                    "voided_at",
                    "refunded_at",
                    "failed_at",
                    "operation",
                    "operation_started_at",
                    "updated_at",
                ],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("amount"))
    def amount_display(self, obj: Payment) -> str:
        return obj.price.format()

    @admin.display(description=_("captured"))
    def captured_display(self, obj: Payment) -> str:
        return Money(obj.captured_amount, obj.currency).format()

    @admin.display(description=_("refunded"))
    def refunded_display(self, obj: Payment) -> str:
        return Money(obj.refunded_amount, obj.currency).format()

    # --- manager actions ------------------------------------------------------------------------------------

    def _operate(self, request, queryset, *, title: str, action: str, run, with_amount: bool = False):
        if not _is_manager(request):
            self.message_user(request, _("Only managers can do this."), messages.ERROR)
            return None
        if with_amount and queryset.count() != 1:
            self.message_user(request, _("Refund one payment at a time."), messages.ERROR)
            return None
        form = OperationForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            done = 0
            for payment in queryset:
                try:
                    run(payment, request.user, form.cleaned_data["reason"], form.cleaned_data.get("amount"))
                    done += 1
                except DomainError as exc:
                    self.message_user(request, f"#{payment.pk}: {exc.message}", messages.ERROR)
            if done:
                self.message_user(
                    request,
                    _("%(n)d payment(s): requested; Moyasar is called in the background.") % {"n": done},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "with_amount": with_amount,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/payments/payment/operation.html", context)

    @admin.action(description=_("Capture (charge the authorized amount)"))
    def capture(self, request, queryset) -> HttpResponse | None:
        def run(payment, user, reason, amount):
            services.payment_request_capture(payment_id=payment.pk, actor=user, reason=reason)

        return self._operate(request, queryset, title=_("Capture payments"), action="capture", run=run)

    @admin.action(description=_("Void (release the authorization)"))
    def void(self, request, queryset) -> HttpResponse | None:
        def run(payment, user, reason, amount):
            services.payment_request_void(payment_id=payment.pk, actor=user, reason=reason)

        return self._operate(request, queryset, title=_("Void payments"), action="void", run=run)

    @admin.action(description=_("Refund (full or partial)"))
    def refund(self, request, queryset) -> HttpResponse | None:
        def run(payment, user, reason, amount):
            services.payment_refund(payment_id=payment.pk, amount=amount, actor=user, reason=reason)

        return self._operate(request, queryset, title=_("Refund a payment"), action="refund", run=run, with_amount=True)

    @admin.action(description=_("Re-read from Moyasar"))
    def sync(self, request, queryset) -> None:
        if not _is_manager(request):
            self.message_user(request, _("Only managers can do this."), messages.ERROR)
            return
        with transaction.atomic():
            for payment in queryset:
                deferrals.sync(payment.pk)
        self.message_user(request, _("Moyasar is asked in the background."), messages.SUCCESS)

    @admin.action(description=_("Clear the attention flag"))
    def clear_flag(self, request, queryset) -> None:
        if not _is_manager(request):
            self.message_user(request, _("Only managers can do this."), messages.ERROR)
            return
        with transaction.atomic():
            for payment in queryset.select_for_update().filter(needs_attention=True):
                payment.needs_attention = False
                payment.save(update_fields=["needs_attention", "updated_at"])
                record(payment, "flag_cleared", source=PaymentEvent.Source.ADMIN, actor=request.user)


@admin.register(Refund)
class RefundAdmin(BusinessAdminMixin, admin.ModelAdmin):
    list_display = ["id", "payment", "kind", "status", "amount", "requested_by", "created_at", "completed_at"]
    list_filter = ["status", "kind"]
    search_fields = ["=id", "=payment__id"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Refund._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(BusinessAdminMixin, admin.ModelAdmin):
    list_display = ["event_id", "type", "provider_payment_id", "outcome", "received_at", "processed_at"]
    list_filter = ["type", "outcome", "live"]
    search_fields = ["event_id", "provider_payment_id"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(BusinessAdminMixin, SafeDateHierarchyMixin, admin.ModelAdmin):
    """The per-business ledger, read-only: platform operators see every business's, owners and managers their
    businesses' (the CSV statement is `GET /api/v1/manage/businesses/SLUG/settlements`)."""

    list_display = ["occurred_at", "business", "payment", "kind", "gross_display", "commission_display",
                    "net_display", "refund"]
    search_fields = ["=payment__id", "=payment__booking__id", "payment__provider_id"]
    list_select_related = ["business", "payment"]
    date_hierarchy = "occurred_at"

    def get_list_filter(self, request: HttpRequest):
        return ["kind", "business"] if request.user.is_superuser else ["kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("gross"), ordering="gross")
    def gross_display(self, obj: LedgerEntry) -> str:
        return _signed(obj.gross, obj.currency)

    @admin.display(description=_("commission"), ordering="commission")
    def commission_display(self, obj: LedgerEntry) -> str:
        return _signed(obj.commission, obj.currency)

    @admin.display(description=_("net"), ordering="net")
    def net_display(self, obj: LedgerEntry) -> str:
        return _signed(obj.net, obj.currency)


def _signed(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{Money(abs(minor), currency).format()}"


class BookingPaymentInline(BusinessInlineMixin, admin.TabularInline):
    """The booking page shows its payments (bookings never imports payments; we add ourselves)."""

    model = Payment
    fk_name = "booking"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["created_at", "status", "amount", "authorized_amount", "captured_amount", "refunded_amount",
              "needs_attention"]
    readonly_fields = fields
    verbose_name_plural = _("payments")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


register_booking_inline(BookingPaymentInline)


@admin.register(VenuePayment)
class VenuePaymentAdmin(BusinessAdminMixin, admin.ModelAdmin):
    """Payments taken at the venue, read-only here: staff and managers record them from the calendar or the
    manager API (never more than is due; docs/payments.md)."""

    list_display = ["id", "booking", "method", "amount_display", "recorded_by", "created_at"]
    list_filter = ["method"]
    search_fields = ["=id", "=booking__id"]
    list_select_related = ["booking", "recorded_by"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in VenuePayment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: VenuePayment) -> str:
        return obj.money.format()


class BookingVenuePaymentInline(BusinessInlineMixin, admin.TabularInline):
    model = VenuePayment
    fk_name = "booking"
    extra = 0
    can_delete = False
    fields = ["created_at", "method", "amount", "recorded_by", "note"]
    readonly_fields = fields
    verbose_name_plural = _("payments at the venue")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


register_booking_inline(BookingVenuePaymentInline)
