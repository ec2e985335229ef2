"""Payments in the manager API (`/api/v1/manage/...`, an enforced-scope surface: apps/core/scoping.py): payments
at the venue of a booking (the bookings half's base view: the business's scope, staff only their own bookings),
and the settlement statement of a business, as CSV. Self-contained: resolves the business, checks the manager, enters the
business's scope, calls the selector and writes the CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings.api import _context
from apps.bookings.manage_api import ManageBookingSerializer, _BookingView
from apps.catalog.manage_api import SLUG, TAGS, _input
from apps.catalog.models import Business
from apps.catalog.selectors import user_manages
from apps.core.errors import NotFound
from apps.core.idempotency import idempotent
from apps.core.money import MoneySerializer
from apps.core.scoping import for_businesses
from apps.payments.models import VenuePayment
from apps.payments.selectors import STATEMENT_MAX_DAYS, SettlementStatement, settlement_statement, venue_payments_of
from apps.payments.services import venue_payment_record

CSV_COLUMNS = [
    "date",  # local time, in the business's time zone
    "booking_id",
    "payment_id",
    "moyasar_id",
    "kind",  # capture | refund | void, or subtotal_<kind> / total on the last lines
    "refund_id",
    "gross",
    "commission",
    "net",
    "late_cancellation_fee_kept",
    "currency",
    # Added with VAT (docs/payments.md "VAT"): gross = gross_before_vat + vat, as the invoices and credit notes
    # state it (0 VAT where the business is not VAT-registered); the VAT in the fee kept.
    "gross_before_vat",
    "vat",
    "late_cancellation_fee_vat",
]


class _AnyAccept(BaseContentNegotiation):
    """The statement is CSV whatever the client accepts (`Accept: text/csv` included); errors are JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


def money_text(minor: int) -> str:
    """Minor units as a decimal with two places, exactly: -1250 → "-12.50"."""
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def statement_csv(statement: SettlementStatement) -> str:
    tz = statement.business.tz
    currency = statement.business.currency
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in statement.entries:
        writer.writerow(
            [
                e.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                e.payment.booking_id,
                e.payment_id,
                e.payment.provider_id or "",
                e.kind,
                e.refund_id or "",
                money_text(e.gross),
                money_text(e.commission),
                money_text(e.net),
                money_text(e.fee_kept),
                e.currency,
                money_text(e.sale_net),
                money_text(e.sale_vat),
                money_text(e.fee_kept_vat),
            ]
        )
    for kind in ("capture", "refund", "void"):
        of_kind = [e for e in statement.entries if e.kind == kind]
        if of_kind:
            writer.writerow(["", "", "", "", f"subtotal_{kind}", "", *_sums(of_kind), currency, *_vat_sums(of_kind)])
    writer.writerow(["", "", "", "", "total", "", *_sums(statement.entries), currency, *_vat_sums(statement.entries)])
    return out.getvalue()


def _sums(entries: list[Any]) -> list[str]:
    return [money_text(sum(getattr(e, name) for e in entries)) for name in ("gross", "commission", "net", "fee_kept")]


def _vat_sums(entries: list[Any]) -> list[str]:
    return [money_text(sum(getattr(e, name) for e in entries)) for name in ("sale_net", "sale_vat", "fee_kept_vat")]


PeriodSerializer = type(
    "PeriodSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(input_formats=["%Y-%m-%d"]),
        "to": serializers.DateField(input_formats=["%Y-%m-%d"]),
    },
)


class BusinessSettlementApi(APIView):
    """`GET /api/v1/manage/businesses/<slug>/settlements?from=YYYY-MM-DD&to=YYYY-MM-DD` → text/csv."""

    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="manage_business_settlements",
        tags=["manage"],
        summary="Settlement statement of a business (CSV)",
        description=(
            "The business's ledger for a period of local dates (its time zone, both ends included, at most "
            f"{STATEMENT_MAX_DAYS} days): one line per capture, refund or void of captured money (the booking, our "
            "payment id, Moyasar's id, gross, the platform's commission, net to the business, in the currency's "
            "units with two decimals; refunds negative), then a subtotal per kind and a `total` line: the net "
            "payable for the period. Owners and managers of the business (and platform operators); anyone else "
            "gets 404."
        ),
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True),
        ],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The statement, CSV.")},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        business = Business.objects.filter(slug=slug).first()
        if business is None or not user_manages(request.user, business.pk):
            raise NotFound()
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        with for_businesses(business.pk):
            statement = settlement_statement(
                business=business, start=period.validated_data["from"], end=period.validated_data["to"]
            )
            body = statement_csv(statement)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        filename = f"settlement-{business.slug}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- payments at the venue ------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="VenuePayment")
class VenuePaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    booking = serializers.IntegerField(source="booking_id")
    amount = MoneySerializer(source="money")
    method = serializers.ChoiceField(choices=VenuePayment.Method.choices)
    note = serializers.CharField()
    recorded_by = serializers.IntegerField(source="recorded_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


class VenuePaymentInputSerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        min_value=1, max_value=100_000_000, help_text="Minor units, VAT included (15000 = 150.00 SAR)."
    )
    method = serializers.ChoiceField(choices=VenuePayment.Method.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema_serializer(component_name="VenuePaymentRecorded")
class VenuePaymentOutputSerializer(serializers.Serializer):
    venue_payment = VenuePaymentSerializer()
    booking = ManageBookingSerializer()


class ManageBookingVenuePaymentsApi(_BookingView):
    """`/api/v1/manage/businesses/<slug>/bookings/<id>/venue-payments`: what was paid at the venue (GET) and
    recording a payment (POST). Managers for any booking of the business, a staff member for their own."""

    @extend_schema(
        operation_id="manage_bookings_venue_payments_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: VenuePaymentSerializer(many=True)},
    )
    def get(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        return Response(VenuePaymentSerializer(venue_payments_of(booking.pk), many=True).data)

    @extend_schema(
        operation_id="manage_bookings_venue_payments_create",
        tags=TAGS,
        parameters=[SLUG],
        request=VenuePaymentInputSerializer,
        responses={201: VenuePaymentOutputSerializer},
        description=(
            "Record money taken at the venue (`cash` or the card `terminal`). Never more than what is still due "
            "(409 `venue_payment_exceeds_due`, with `due`); a cancelled, expired or no-show booking takes none "
            "(409 `booking_not_payable_at_venue`). An unpaid booking (`pending_payment`) is confirmed by it. The "
            "booking's `balance` shows what was paid online, at the venue, and what is due."
        ),
    )
    @idempotent
    def post(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        data = _input(VenuePaymentInputSerializer, request)
        venue_payment = venue_payment_record(
            booking_id=booking.pk, amount=data["amount"], method=data["method"], actor=self.user, note=data["note"]
        )
        booking = self.booking(booking.pk)
        body = {
            "venue_payment": VenuePaymentSerializer(venue_payment).data,
            "booking": ManageBookingSerializer(booking, context=_context([booking], business=self.business)).data,
        }
        return Response(body, status=201)
