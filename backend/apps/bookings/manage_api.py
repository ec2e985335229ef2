"""The manager API, bookings half: a business's day of bookings (per branch and staff member) and what the
business does to them; a staff member's own schedule. The base views (`apps.catalog.manage_api`) put each
handler in the business's scope: a booking of another business is not found (404)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.bookings import calendar_feed, services
from apps.bookings.api import BookingSerializer, OffsetDateTimeField, _context
from apps.bookings.models import Booking
from apps.catalog.manage_api import (
    MANAGERS,
    MEMBERS,
    SLUG,
    TAGS,
    ManageApi,
    ManageMeApi,
    TimeOffSerializer,
    WeeklySpanSerializer,
)
from apps.catalog.models import Branch, ScheduleException, Staff, WorkingHours
from apps.core.errors import NotFound
from apps.core.fields import BoundedDateField
from apps.core.idempotency import idempotent
from apps.core.pagination import Pagination

MAX_SCHEDULE_DAYS = 62


@extend_schema_serializer(component_name="ManageBooking")
class ManageBookingSerializer(BookingSerializer):
    customer_name = serializers.CharField(help_text="The customer's name, for the business.")
    customer_phone = serializers.CharField(help_text="E.164; empty when the customer deleted their account.")

    def to_representation(self, instance: Booking) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["customer_name"] = instance.customer.name
        data["customer_phone"] = "" if instance.customer.is_deleted else str(instance.customer.phone)
        return data


def _bookings() -> QuerySet[Booking]:
    return Booking.objects.select_related("customer", "business").order_by("start", "id")


def _day_bounds(day: date, tz: Any) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(), tzinfo=tz), datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


class _BookingView(ManageApi):
    """A booking of the business: any one for a manager, only their own for a staff member."""

    read_roles = write_roles = MEMBERS

    def booking(self, booking_id: int) -> Booking:
        qs = _bookings().select_related("staff", "service")
        if self.role not in MANAGERS:
            qs = qs.filter(staff__user_id=self.user.pk)
        booking = qs.filter(pk=booking_id).first()
        if booking is None:
            raise NotFound()
        return booking

    def render(self, booking: Booking) -> Response:
        booking = self.booking(booking.pk)  # as the business sees it now, with its customer
        context = _context([booking], business=self.business)
        return Response(ManageBookingSerializer(booking, context=context).data)


class ManageBookingListApi(_BookingView):
    @extend_schema_serializer(component_name="ManageBookingListFilter")
    class FilterSerializer(serializers.Serializer):
        date = BoundedDateField(required=False)
        branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects, required=False)
        staff = serializers.PrimaryKeyRelatedField(queryset=Staff.objects, required=False)
        status = serializers.ChoiceField(choices=Booking.Status.choices, required=False)

    @extend_schema(
        operation_id="manage_bookings_list",
        tags=TAGS,
        parameters=[
            SLUG,
            OpenApiParameter("date", OpenApiTypes.DATE, description="The local day (default: today)."),
            OpenApiParameter("branch", OpenApiTypes.INT, description="Only at this branch."),
            OpenApiParameter("staff", OpenApiTypes.INT, description="Only with this staff member."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Booking.Status.values),
        ],
        responses={200: ManageBookingSerializer(many=True)},
        description="The day's bookings in start order. A staff member sees only their own.",
    )
    def get(self, request: Request, slug: str) -> Response:
        f = self.FilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        tz = self.business.tz
        day = f.validated_data.get("date") or timezone.now().astimezone(tz).date()
        start, end = _day_bounds(day, tz)
        qs = _bookings().filter(start__gte=start, start__lt=end)
        if self.role not in MANAGERS:
            qs = qs.filter(staff__user_id=self.user.pk)
        if "branch" in f.validated_data:
            qs = qs.filter(branch=f.validated_data["branch"])
        if "staff" in f.validated_data:
            qs = qs.filter(staff=f.validated_data["staff"])
        if "status" in f.validated_data:
            qs = qs.filter(status=f.validated_data["status"])
        paginator = Pagination()
        page = list(paginator.paginate_queryset(qs, request, view=self) or [])
        context = _context(page, business=self.business)
        return paginator.get_paginated_response(ManageBookingSerializer(page, many=True, context=context).data)


class ManageBookingDetailApi(_BookingView):
    @extend_schema(
        operation_id="manage_bookings_retrieve", tags=TAGS, parameters=[SLUG], responses={200: ManageBookingSerializer}
    )
    def get(self, request: Request, slug: str, booking_id: int) -> Response:
        return self.render(self.booking(booking_id))


class ManageBookingConfirmApi(_BookingView):
    write_roles = MANAGERS

    @extend_schema_serializer(component_name="ManageBookingConfirmInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="manage_bookings_confirm",
        tags=TAGS,
        parameters=[SLUG],
        request=InputSerializer,
        responses={200: ManageBookingSerializer},
        description="Confirm an unpaid booking (e.g. paid at the counter).",
    )
    def post(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        reason = s.validated_data["reason"] or "confirmed by the business"
        return self.render(services.booking_confirm(booking_id=booking.pk, actor=self.user, reason=reason))


class ManageBookingCompleteApi(_BookingView):
    @extend_schema(
        operation_id="manage_bookings_complete",
        tags=TAGS,
        parameters=[SLUG],
        request=None,
        responses={200: ManageBookingSerializer},
    )
    def post(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        return self.render(services.booking_complete(booking_id=booking.pk, actor=self.user))


class ManageBookingNoShowApi(_BookingView):
    @extend_schema(
        operation_id="manage_bookings_no_show",
        tags=TAGS,
        parameters=[SLUG],
        request=None,
        responses={200: ManageBookingSerializer},
    )
    def post(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        return self.render(services.booking_mark_no_show(booking_id=booking.pk, actor=self.user))


class ManageBookingCancelApi(_BookingView):
    write_roles = MANAGERS

    @extend_schema_serializer(component_name="ManageBookingCancelInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, help_text="Told to the customer; kept in the history.")

    @extend_schema(
        operation_id="manage_bookings_cancel",
        tags=TAGS,
        parameters=[SLUG],
        request=InputSerializer,
        responses={200: ManageBookingSerializer},
    )
    def post(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        cancelled = services.booking_cancel(
            booking_id=booking.pk, actor=self.user, reason=s.validated_data["reason"]
        )
        return self.render(cancelled)


class ManageBookingRescheduleApi(_BookingView):
    write_roles = MANAGERS

    @extend_schema_serializer(component_name="ManageBookingRescheduleInput")
    class InputSerializer(serializers.Serializer):
        start = OffsetDateTimeField()
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="manage_bookings_reschedule",
        tags=TAGS,
        parameters=[SLUG],
        request=InputSerializer,
        responses={200: ManageBookingSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str, booking_id: int) -> Response:
        booking = self.booking(booking_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        moved = services.booking_reschedule(booking_id=booking.pk, actor=self.user, **s.validated_data)
        return self.render(moved)


# --- a staff member's own schedule --------------------------------------------------------------------------


@extend_schema_serializer(component_name="MySchedule")
class MyScheduleSerializer(serializers.Serializer):
    staff = serializers.IntegerField()
    business = serializers.SlugField(help_text="The business's slug.")
    timezone = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    hours = WeeklySpanSerializer(many=True, help_text="The weekly hours.")
    time_off = TimeOffSerializer(many=True, help_text="Time off and extra hours in the range.")
    bookings = ManageBookingSerializer(many=True, help_text="Bookings in the range, in start order.")


class MyScheduleApi(ManageMeApi):
    @extend_schema_serializer(component_name="MyScheduleFilter")
    class FilterSerializer(serializers.Serializer):
        date_from = BoundedDateField(required=False)
        date_to = BoundedDateField(required=False)

        def validate(self, attrs: dict) -> dict:
            first, last = attrs.get("date_from"), attrs.get("date_to")
            if first and last and first > last:
                raise serializers.ValidationError({"date_to": [_("Must not be before date_from.")]})
            if first and last and (last - first).days >= MAX_SCHEDULE_DAYS:
                raise serializers.ValidationError({"date_to": [_("At most 62 days at once.")]})
            return attrs

    @extend_schema(
        operation_id="manage_me_schedule",
        tags=TAGS,
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Default: today."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Default: date_from + 6 days."),
        ],
        responses={200: MyScheduleSerializer},
    )
    def get(self, request: Request) -> Response:
        f = self.FilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        tz = self.business.tz
        first = f.validated_data.get("date_from") or timezone.now().astimezone(tz).date()
        last = f.validated_data.get("date_to") or first + timedelta(days=6)
        start, _end = _day_bounds(first, tz)
        _start, end = _day_bounds(last, tz)
        bookings = list(
            _bookings()
            .filter(staff=self.staff, start__lt=end, end__gt=start)
            .exclude(status__in=[Booking.Status.EXPIRED])
        )
        context = {**_context(bookings, business=self.business), "tz": tz}
        data = {
            "staff": self.staff.pk,
            "business": self.business.slug,
            "timezone": self.business.timezone,
            "date_from": first,
            "date_to": last,
            "hours": WorkingHours.objects.filter(staff=self.staff).order_by("weekday", "start_time"),
            "time_off": ScheduleException.objects.filter(staff=self.staff, start__lt=end, end__gt=start).order_by(
                "start"
            ),
            "bookings": bookings,
        }
        return Response(MyScheduleSerializer(data, context=context).data)


# --- a staff member's private calendar feed -----------------------------------------------------------------


@extend_schema_serializer(component_name="MyCalendarFeed")
class MyCalendarFeedSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="Whether the staff member has a feed address that works.")
    created_at = serializers.DateTimeField(allow_null=True, help_text="When the current address was made.")
    url = serializers.URLField(
        allow_null=True,
        help_text="The feed's address, only in the answer to POST (only a hash of its secret is kept): subscribe "
        "to it in a calendar app. Null otherwise.",
    )


class MyCalendarFeedApi(ManageMeApi):
    """`/manage/me/calendar-feed`: the caller's own feed (apps/bookings/calendar_feed.py): see whether it is on,
    make a new address (the old one stops working) or turn it off."""

    def _render(self, *, url: str | None = None, status: int = 200) -> Response:
        row = calendar_feed.feed_token_get(self.staff)
        data = {
            "active": row is not None,
            "created_at": row.created_at.astimezone(self.business.tz) if row is not None else None,
            "url": url,
        }
        return Response(MyCalendarFeedSerializer(data).data, status=status)

    @extend_schema(operation_id="manage_me_calendar_feed", tags=TAGS, responses={200: MyCalendarFeedSerializer})
    def get(self, request: Request) -> Response:
        return self._render()

    @extend_schema(
        operation_id="manage_me_calendar_feed_rotate",
        tags=TAGS,
        summary="Make a new feed address",
        description="A new secret address for the caller's calendar feed; the previous one, if any, gives 404 from "
        "now on. The address is in this answer only.",
        request=None,
        responses={201: MyCalendarFeedSerializer},
    )
    def post(self, request: Request) -> Response:
        token = calendar_feed.feed_token_issue(self.staff)
        url = settings.PUBLIC_BASE_URL + reverse("staff-calendar-feed", args=[token])
        return self._render(url=url, status=201)

    @extend_schema(
        operation_id="manage_me_calendar_feed_revoke",
        tags=TAGS,
        summary="Turn the feed off",
        description="Its address gives 404 from now on. Turning off a feed that is off changes nothing.",
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        calendar_feed.feed_token_revoke(self.staff)
        return Response(status=204)
