"""Bookings API (shared/API.md, "Bookings"): thin views that parse, call one service or selector, serialize.

Times leave in the business time zone (`2026-12-01T09:00:00+03:00`); times coming in must carry an offset.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings import calendar_feed, services
from apps.bookings.errors import SlotUnavailable
from apps.bookings.hooks import booking_balances, payment_summaries
from apps.bookings.models import Booking
from apps.bookings.selectors import (
    anyone_request_get,
    booking_get_for_user,
    booking_list_for_user,
    booking_request_get,
)
from apps.catalog.models import Business, PaymentPolicy
from apps.catalog.selectors import ServiceMissing, StaffMissing
from apps.core.errors import NotFound
from apps.core.fields import BoundedDateField, BoundedDateTimeField
from apps.core.idempotency import idempotent
from apps.core.money import MoneySerializer, VatLineSerializer, vat_line
from apps.core.pagination import Pagination

# --- fields and the booking representation shared by every endpoint ------------------------------------------


class OffsetDateTimeField(BoundedDateTimeField):
    """In: ISO 8601 with a UTC offset (a naive time is refused), between 1970 and 9000 (so that adding a duration
    cannot overflow). Out: in the time zone `context["tz"]`, else the booking's business's."""

    def get_attribute(self, instance: Any) -> Any:
        business = getattr(instance, "business", None)
        self._row_tz = getattr(business, "tz", None)
        return super().get_attribute(instance)

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError as exc:  # well-formed but impossible, e.g. minute 99
                raise serializers.ValidationError(_("Not a valid date and time.")) from exc
            if parsed is not None and parsed.utcoffset() is None:
                raise serializers.ValidationError(_("Include the UTC offset, e.g. 2026-12-01T09:00:00+03:00."))
        return super().to_internal_value(value)

    def to_representation(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        tz = self.context.get("tz") or getattr(self, "_row_tz", None)
        return (value.astimezone(tz) if tz else value).isoformat()


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": True,
        "description": "The booking's payment (see Payments), or null when there is none.",
    }
)
class PaymentSummaryField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, booking: Booking) -> dict | None:
        return self.context.get("payments", {}).get(booking.pk)


@extend_schema_field(VatLineSerializer(allow_null=True))
class PriceVatField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, booking: Booking) -> dict | None:
        return vat_line(
            net=booking.price_net, vat=booking.price_vat, rate_bps=booking.vat_rate_bps, currency=booking.currency
        )


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": True,
        "description": 'What the booking has paid and owes (see Payments, "Deposits and paying at the venue"): '
        "`payment_policy`, `due_online` (what is paid online to confirm it), `paid_online`, `paid_at_venue`, `due` "
        "(still to pay at the venue), `cancellation_fee` (what the customer's cancellation now would keep: 0 "
        "before the cut-off) and `late_cancellation` (the cut-off has passed); amounts are Money objects.",
    }
)
class BalanceField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, booking: Booking) -> dict | None:
        return self.context.get("balances", {}).get(booking.pk)


class BookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    business = serializers.IntegerField(source="business_id", help_text="The business it is with.")
    branch = serializers.IntegerField(source="branch_id", allow_null=True, help_text="The branch it is at.")
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    customer = serializers.IntegerField(source="customer_id", help_text="The customer's user id.")
    staff = serializers.IntegerField(source="staff_id")
    service = serializers.IntegerField(source="service_id")
    start = OffsetDateTimeField()
    end = OffsetDateTimeField()
    price = MoneySerializer()
    price_vat = PriceVatField(
        help_text=(
            "The price as the tax invoice states it (net, VAT, and gross = `price`), where the business is "
            "VAT-registered; null where it is not."
        ),
    )
    notes = serializers.CharField()
    customer_address = serializers.CharField(help_text="Where a home service is given (empty otherwise).")
    hold_expires_at = OffsetDateTimeField(
        allow_null=True, help_text="While `pending_payment`: the slot is held until then, unless paid."
    )
    payment = PaymentSummaryField()
    payment_policy = serializers.ChoiceField(
        choices=PaymentPolicy.choices,
        help_text="`full`: the whole price online; `deposit`: `amount_due_online` online, the rest at the venue; "
        "`venue`: nothing online (confirmed when booked).",
    )
    amount_due_online = MoneySerializer(help_text="What is paid online to confirm it (`POST /bookings/ID/pay`).")
    balance = BalanceField()
    cancel_reason = serializers.CharField()
    customer_confirmed_at = OffsetDateTimeField(
        allow_null=True, help_text="When the customer said they will come (the WhatsApp button); null: not said."
    )
    created_at = OffsetDateTimeField()
    updated_at = OffsetDateTimeField()

    def to_representation(self, instance: Booking) -> dict[str, Any]:
        """What the fields above make of a booking, written out. The fields document the shape (OpenAPI); building
        them for each serializer (DRF deep-copies every declared field) cost a booking request more CPU than
        its JSON. `test_bookings_api` checks that this agrees with DRF's field-by-field rendering."""
        tz = self.context.get("tz") or instance.business.tz
        return {
            "id": instance.pk,
            "business": instance.business_id,
            "branch": instance.branch_id,
            "status": instance.status,
            "customer": instance.customer_id,
            "staff": instance.staff_id,
            "service": instance.service_id,
            "start": _when(instance.start, tz),
            "end": _when(instance.end, tz),
            "price": instance.price.as_dict(),
            "price_vat": vat_line(
                net=instance.price_net,
                vat=instance.price_vat,
                rate_bps=instance.vat_rate_bps,
                currency=instance.currency,
            ),
            "notes": instance.notes,
            "customer_address": instance.customer_address,
            "hold_expires_at": _when(instance.hold_expires_at, tz),
            "payment": self.context.get("payments", {}).get(instance.pk),
            "payment_policy": instance.payment_policy,
            "amount_due_online": instance.amount_due_online.as_dict(),
            "balance": self.context.get("balances", {}).get(instance.pk),
            "cancel_reason": instance.cancel_reason,
            "customer_confirmed_at": _when(instance.customer_confirmed_at, tz),
            "created_at": _when(instance.created_at, tz),
            "updated_at": _when(instance.updated_at, tz),
        }


def _when(value: datetime | None, tz: tzinfo | None) -> str | None:
    return None if value is None else (value.astimezone(tz) if tz else value).isoformat()


@extend_schema_serializer(component_name="PaginatedBookingList")
class BookingPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BookingSerializer(many=True)


def _context(bookings: list[Booking], *, business: Business | None = None) -> dict[str, Any]:
    """What the representation needs for a page of bookings: the payments (one query), and the time zone when
    they are all one business's (otherwise each booking is shown in its business's)."""
    if business is None and len({b.business_id for b in bookings}) == 1:
        business = bookings[0].business
    tz = business.tz if business is not None else None
    ids = [b.pk for b in bookings]
    return {"tz": tz, "payments": payment_summaries(ids), "balances": booking_balances(ids)}


def _new_balance(booking: Booking) -> dict[str, Any]:
    """The balance of a booking just made (the shape payments' `booking_balances` gives): nothing paid yet."""

    def money(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": booking.currency}

    return {
        "payment_policy": booking.payment_policy,
        "due_online": money(booking.online_amount),
        "paid_online": money(0),
        "paid_at_venue": money(0),
        "due": money(booking.price_amount),
        "cancellation_fee": money(0),
        "late_cancellation": False,
    }


def _render(booking: Booking, *, status: int = 200, business: Business | None = None) -> Response:
    return Response(BookingSerializer(booking, context=_context([booking], business=business)).data, status=status)


_BRANCH_ERRORS = {
    "unknown": _("No such branch of this business."),
    "not_offered": _("This service is not offered at this branch."),
    "required": _("Choose a branch: this service is offered at several."),
}


# --- endpoints --------------------------------------------------------------------------------------------


class BookingListCreateApi(APIView):
    # `GET` and `POST /bookings` share a path, so they share a view; each method stays one operation.

    @extend_schema_serializer(component_name="BookingListFilter")
    class FilterSerializer(serializers.Serializer):
        status = serializers.ListField(child=serializers.ChoiceField(choices=Booking.Status.choices), required=False)
        staff = serializers.IntegerField(min_value=1, required=False)
        date_from = BoundedDateField(required=False)
        date_to = BoundedDateField(required=False)

        def validate(self, attrs: dict) -> dict:
            if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
                raise serializers.ValidationError({"date_to": [_("Must not be before date_from.")]})
            return attrs

    @extend_schema_serializer(component_name="BookingCreateInput")
    class InputSerializer(serializers.Serializer):
        staff = serializers.IntegerField(
            min_value=1, required=False, help_text="Leave out to book anyone free then (the server picks fairly)."
        )
        service = serializers.IntegerField(min_value=1)
        branch = serializers.IntegerField(
            min_value=1,
            required=False,
            help_text="Where: needed without `staff` when the service is offered at several branches; with `staff`, "
            "it must be theirs.",
        )
        start = OffsetDateTimeField()
        notes = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
        customer_address = serializers.CharField(
            max_length=500, required=False, allow_blank=True, default="", help_text="Required by home services."
        )

        def validate(self, attrs: dict) -> dict:
            # The early check, for fast feedback before anyone queues for the locks: one query brings the staff
            # member, the service, the business settings and whether the slot is plainly taken (without a staff
            # member: the free ones, fairest first). `booking_create` decides again under the locks; this one
            # only saves work.
            if attrs.get("staff") is None:
                return self._validate_anyone(attrs)
            try:
                request = booking_request_get(
                    staff_id=attrs["staff"], service_id=attrs["service"], start=attrs["start"]
                )
            except StaffMissing as exc:
                raise serializers.ValidationError({"staff": [_("No such staff member.")]}) from exc
            except ServiceMissing as exc:
                raise serializers.ValidationError({"service": [_("No such service.")]}) from exc
            if not request.offered_here:
                raise serializers.ValidationError({"service": [_("This service is not offered at this branch.")]})
            if attrs.get("branch") is not None and attrs["branch"] != request.staff.branch_id:
                raise serializers.ValidationError({"branch": [_("This staff member works at another branch.")]})
            self._check_address(request.business, attrs)
            if request.taken:
                raise SlotUnavailable()
            return {**attrs, "staff": request.staff, "service": request.service, "business": request.business}

        def _validate_anyone(self, attrs: dict) -> dict:
            try:
                request = anyone_request_get(
                    service_id=attrs["service"], branch_id=attrs.get("branch"), start=attrs["start"]
                )
            except ServiceMissing as exc:
                raise serializers.ValidationError({"service": [_("No such service.")]}) from exc
            if request.branch_error:
                raise serializers.ValidationError({"branch": [str(_BRANCH_ERRORS[request.branch_error])]})
            self._check_address(request.business, attrs)
            if not request.candidates:
                raise SlotUnavailable()
            return {
                **attrs,
                "staff": None,
                "candidates": request.candidates,
                "service": request.service,
                "business": request.business,
            }

        @staticmethod
        def _check_address(business: Business, attrs: dict) -> None:
            if business.serves_at_home and not attrs.get("customer_address", "").strip():
                raise serializers.ValidationError(
                    {"customer_address": [_("This business comes to you: give the address.")]}
                )

    @extend_schema(
        operation_id="bookings_list",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=Booking.Status.values,
                description="Only these statuses (repeat, or separate with commas).",
            ),
            OpenApiParameter("staff", OpenApiTypes.INT, description="Only bookings with this staff member."),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Starting on or after this local date."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Starting on or before this local date."),
        ],
        responses={200: BookingPageSerializer},
    )
    def get(self, request: Request) -> Response:
        params: dict[str, Any] = request.query_params.dict()
        statuses = [s for raw in request.query_params.getlist("status") for s in raw.split(",") if s]
        params["status"] = statuses
        f = self.FilterSerializer(data=params)
        f.is_valid(raise_exception=True)
        filters = f.validated_data
        qs = booking_list_for_user(
            user=request.user,
            status=filters.get("status") or None,
            staff_id=filters.get("staff"),
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        context = _context(list(page))
        return paginator.get_paginated_response(BookingSerializer(page, many=True, context=context).data)

    @extend_schema(operation_id="bookings_create", request=InputSerializer, responses={201: BookingSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        business = data["business"]
        address = data["customer_address"].strip() if business.serves_at_home else ""
        if data["staff"] is None:
            booking = services.booking_create_anyone(
                customer=request.user,
                service=data["service"],
                candidates=data["candidates"],
                start=data["start"],
                notes=data["notes"],
                customer_address=address,
                business=business,
            )
        else:
            booking = services.booking_create(
                customer=request.user,
                staff_id=data["staff"].pk,
                service=data["service"],
                start=data["start"],
                notes=data["notes"],
                customer_address=address,
                business=business,
            )
        # A booking just made has no payment: payments are made for a booking that exists (POST /payments), so
        # there is nothing to look up (and nothing paid yet: its balance is its price).
        context = {"tz": business.tz, "payments": {}, "balances": {booking.pk: _new_balance(booking)}}
        return Response(BookingSerializer(booking, context=context).data, status=201)


class BookingDetailApi(APIView):
    @extend_schema(operation_id="bookings_retrieve", responses={200: BookingSerializer})
    def get(self, request: Request, booking_id: int) -> Response:
        return _render(booking_get_for_user(user=request.user, booking_id=booking_id))


class BookingCancelApi(APIView):
    @extend_schema_serializer(component_name="BookingCancelInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="bookings_cancel", request=InputSerializer, responses={200: BookingSerializer})
    def post(self, request: Request, booking_id: int) -> Response:
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        booking = services.booking_cancel(booking_id=booking.pk, actor=request.user, reason=s.validated_data["reason"])
        return _render(booking)


class BookingRescheduleApi(APIView):
    @extend_schema_serializer(component_name="BookingRescheduleInput")
    class InputSerializer(serializers.Serializer):
        start = OffsetDateTimeField()
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="bookings_reschedule", request=InputSerializer, responses={200: BookingSerializer})
    @idempotent
    def post(self, request: Request, booking_id: int) -> Response:
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        booking = services.booking_reschedule(booking_id=booking.pk, actor=request.user, **s.validated_data)
        return _render(booking)


class BookingCompleteApi(APIView):
    @extend_schema(operation_id="bookings_complete", request=None, responses={200: BookingSerializer})
    def post(self, request: Request, booking_id: int) -> Response:
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        return _render(services.booking_complete(booking_id=booking.pk, actor=request.user))


class BookingNoShowApi(APIView):
    @extend_schema(operation_id="bookings_no_show", request=None, responses={200: BookingSerializer})
    def post(self, request: Request, booking_id: int) -> Response:
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        return _render(services.booking_mark_no_show(booking_id=booking.pk, actor=request.user))


class _AnyAccept(BaseContentNegotiation):
    """A calendar file is what it is whatever the client accepts; errors are JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class BookingIcsApi(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="bookings_ics",
        summary="One of your bookings as a calendar file",
        description=(
            "An iCalendar file (RFC 5545), in UTC. The UID stays the same for the booking's life; SEQUENCE grows "
            "with each reschedule or status change; a cancelled booking gives STATUS:CANCELLED (METHOD:CANCEL), "
            "so that importing it again removes the event. The booking's customer only; anyone else gets 404."
        ),
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="The booking, iCalendar.")},
    )
    def get(self, request: Request, booking_id: int) -> HttpResponse:
        booking = calendar_feed.booking_ics_for_customer(booking_id=booking_id, customer_id=request.user.pk)
        if booking is None:
            raise NotFound()
        response = HttpResponse(calendar_feed.booking_ics(booking), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="mawid-booking-{booking.pk}.ics"'
        response["Cache-Control"] = "private, no-cache"
        return response
