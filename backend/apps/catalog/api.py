"""Public catalog and availability API: no login, rate limited per client address.

Every response carries a `Server-Timing` header: `app` (the whole view: throttle, selectors, serialization and
JSON rendering), `db` (this view's own queries: count, and time spent executing them, i.e. round trips and
server work; turning rows into Python objects is not included) and `throttle` (the rate limiter's queries: its
counters live in the cache, which is the database).
"""

from __future__ import annotations

import time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors
from apps.core.money import MoneySerializer
from apps.core.throttling import AnonThrottle

TAGS = ["catalog"]
_ID_MAX = 2**63 - 1  # ids are bigints


class _Meter:
    """Time and count the queries run inside `connection.execute_wrapper`, split off those of the throttle."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0
        self.throttle_queries = 0
        self.throttle_seconds = 0.0
        self.in_throttle = False

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            if self.in_throttle:
                self.throttle_queries += 1
                self.throttle_seconds += elapsed
            else:
                self.queries += 1
                self.seconds += elapsed


# Base of the public catalog views: anyone may call them; `Server-Timing` on every response. (A comment, not a
# docstring: drf-spectacular would show it as the description of every operation.)
class PublicApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonThrottle]

    def check_throttles(self, request: Request) -> None:
        meter: _Meter | None = getattr(self, "_meter", None)
        if meter is None:
            super().check_throttles(request)
            return
        meter.in_throttle = True
        try:
            super().check_throttles(request)
        finally:
            meter.in_throttle = False

    def dispatch(self, request, *args: Any, **kwargs: Any):
        started = time.perf_counter()
        self._meter = meter = _Meter()
        with connection.execute_wrapper(meter):
            response = super().dispatch(request, *args, **kwargs)
            if not getattr(response, "is_rendered", True):
                response.render()  # inside the timer: JSON encoding is part of the view's cost
        total_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = (
            f"app;dur={total_ms:.2f}, "
            f'db;dur={meter.seconds * 1000:.2f};desc="{meter.queries} queries", '
            f'throttle;dur={meter.throttle_seconds * 1000:.2f};desc="{meter.throttle_queries} queries"'
        )
        return response


# --- shapes -----------------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="Service")
class ServiceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the language of the request (`Accept-Language: ar` or `en`).")
    description = serializers.CharField(help_text="In the language of the request.")
    name_ar = serializers.CharField()
    name_en = serializers.CharField()
    description_ar = serializers.CharField()
    description_en = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    buffer_before_minutes = serializers.IntegerField(help_text="Time kept free before each booking.")
    buffer_after_minutes = serializers.IntegerField(help_text="Time kept free after each booking.")
    price = MoneySerializer()
    display_order = serializers.IntegerField()
    staff = serializers.ListField(
        child=serializers.IntegerField(), source="staff_ids", help_text="Ids of the active staff who offer it."
    )


@extend_schema_serializer(component_name="Staff")
class StaffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    bio = serializers.CharField()
    photo_url = serializers.CharField(help_text="Empty when there is no photo.")
    services = serializers.ListField(
        child=serializers.IntegerField(), source="service_ids", help_text="Ids of the active services offered."
    )
    display_order = serializers.IntegerField()


@extend_schema_serializer(component_name="Slot")
class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="ISO 8601 with the business time zone's offset.")
    end = serializers.DateTimeField(help_text="`start` + the service's duration (buffers not included).")


@extend_schema_serializer(component_name="AnyStaffSlot")
class AnyStaffSlotSerializer(SlotSerializer):
    staff = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the staff free then, ascending.")


class SlotListField(serializers.ListField):
    """Slots written straight to ISO 8601 in the business time zone (`context["tz"]`): a month of one staff
    member's slots is about a thousand items, too many for a serializer per item."""

    child = SlotSerializer()

    def to_representation(self, data):
        tz: ZoneInfo = self.context["tz"]
        return [{"start": s.start.astimezone(tz).isoformat(), "end": s.end.astimezone(tz).isoformat()} for s in data]


class AnyStaffSlotListField(serializers.ListField):
    child = AnyStaffSlotSerializer()

    def to_representation(self, data):
        tz: ZoneInfo = self.context["tz"]
        return [
            {
                "start": row.slot.start.astimezone(tz).isoformat(),
                "end": row.slot.end.astimezone(tz).isoformat(),
                "staff": row.staff_ids,
            }
            for row in data
        ]


# --- services ---------------------------------------------------------------------------------------------


class ServiceListApi(PublicApi):
    OutputSerializer = ServiceOutputSerializer

    @extend_schema(
        operation_id="catalog_services_list",
        tags=TAGS,
        summary="Active services",
        description=f"In display order, at most {selectors.LIST_LIMIT}. Names and descriptions follow `Accept-Language`.",
        responses={200: ServiceOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(selectors.service_list(), many=True).data)


class ServiceDetailApi(PublicApi):
    OutputSerializer = ServiceOutputSerializer

    @extend_schema(
        operation_id="catalog_services_retrieve",
        tags=TAGS,
        summary="One active service",
        responses={200: ServiceOutputSerializer, 404: OpenApiResponse(description="Unknown or inactive service.")},
    )
    def get(self, request: Request, service_id: int) -> Response:
        return Response(self.OutputSerializer(selectors.service_get_active(service_id)).data)


# --- staff ------------------------------------------------------------------------------------------------


class StaffListApi(PublicApi):
    @extend_schema_serializer(component_name="StaffListQuery")
    class InputSerializer(serializers.Serializer):
        service = serializers.IntegerField(
            required=False, min_value=1, max_value=_ID_MAX, help_text="Only staff who offer this service."
        )

    OutputSerializer = StaffOutputSerializer

    @extend_schema(
        operation_id="catalog_staff_list",
        tags=TAGS,
        summary="Active staff members",
        description=f"In display order, at most {selectors.LIST_LIMIT}. An unknown or inactive `service` "
        "gives an empty list.",
        parameters=[InputSerializer],
        responses={200: StaffOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        staff = selectors.staff_list(service_id=s.validated_data.get("service"))
        return Response(self.OutputSerializer(staff, many=True).data)


class StaffDetailApi(PublicApi):
    OutputSerializer = StaffOutputSerializer

    @extend_schema(
        operation_id="catalog_staff_retrieve",
        tags=TAGS,
        summary="One active staff member",
        responses={200: StaffOutputSerializer, 404: OpenApiResponse(description="Unknown or inactive staff member.")},
    )
    def get(self, request: Request, staff_id: int) -> Response:
        return Response(self.OutputSerializer(selectors.staff_get_active(staff_id)).data)


# --- availability -----------------------------------------------------------------------------------------


class StaffAvailabilityApi(PublicApi):
    @extend_schema_serializer(component_name="StaffAvailabilityQuery")
    class InputSerializer(serializers.Serializer):
        service = serializers.IntegerField(min_value=1, max_value=_ID_MAX)
        date_from = serializers.DateField(
            required=False, help_text="First local date (YYYY-MM-DD, business time zone); default today."
        )
        date_to = serializers.DateField(required=False, help_text="Last local date, inclusive; default `date_from`.")

    @extend_schema_serializer(component_name="StaffAvailability")
    class OutputSerializer(serializers.Serializer):
        staff = serializers.IntegerField()
        service = serializers.IntegerField()
        timezone = serializers.CharField(help_text="The business time zone, e.g. Asia/Riyadh.")
        date_from = serializers.DateField(
            allow_null=True, help_text="The dates searched: the request cut to the booking window (null: none left)."
        )
        date_to = serializers.DateField(allow_null=True)
        slots = SlotListField()

    @extend_schema(
        operation_id="catalog_staff_availability",
        tags=TAGS,
        summary="Bookable start times with one staff member",
        description=(
            "Every start on the slot step where the service, with its buffers, fits inside the staff member's "
            "working hours, outside time off and closures, clear of bookings, after the minimum notice and "
            "inside the booking window. Exactly the starts `POST /bookings` would accept now. A range "
            "reaching beyond the booking window (which also bounds its length) is cut to it; a reversed range "
            "is `invalid_date_range`, a service this staff member does not offer `service_not_offered`."
        ),
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="`validation_error`, `invalid_date_range` or `service_not_offered`."),
            404: OpenApiResponse(description="Unknown or inactive staff member or service."),
        },
    )
    def get(self, request: Request, staff_id: int) -> Response:
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        staff, service = selectors.staff_service_get_active(staff_id=staff_id, service_id=data["service"])
        result = selectors.slot_list_available(
            staff=staff, service=service, date_from=data.get("date_from"), date_to=data.get("date_to")
        )
        out = {
            "staff": result.staff.pk,
            "service": result.service.pk,
            "timezone": result.timezone,
            "date_from": result.date_from,
            "date_to": result.date_to,
            "slots": result.slots,
        }
        return Response(self.OutputSerializer(out, context={"tz": ZoneInfo(result.timezone)}).data)


class AnyStaffAvailabilityApi(PublicApi):
    @extend_schema_serializer(component_name="AnyStaffAvailabilityQuery")
    class InputSerializer(serializers.Serializer):
        service = serializers.IntegerField(min_value=1, max_value=_ID_MAX)
        date = serializers.DateField(
            required=False, help_text="Local date (YYYY-MM-DD, business time zone); default today."
        )

    @extend_schema_serializer(component_name="AnyStaffAvailability")
    class OutputSerializer(serializers.Serializer):
        service = serializers.IntegerField()
        date = serializers.DateField()
        timezone = serializers.CharField()
        staff = serializers.ListField(
            child=serializers.IntegerField(), help_text="Everyone who offers the service, in display order."
        )
        slots = AnyStaffSlotListField()

    @extend_schema(
        operation_id="catalog_availability_any_staff",
        tags=TAGS,
        summary="Bookable start times with any staff member",
        description=(
            "The slots of every active staff member who offers the service on one date, merged: each slot "
            "lists the staff free then. A date outside the booking window has no slots."
        ),
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="`validation_error`."),
            404: OpenApiResponse(description="Unknown or inactive service."),
        },
    )
    def get(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        service = selectors.service_get_active(s.validated_data["service"])
        result = selectors.slot_list_any_staff(service=service, date=s.validated_data.get("date"))
        out = {
            "service": result.service.pk,
            "date": result.date,
            "timezone": result.timezone,
            "staff": result.staff_ids,
            "slots": result.slots,
        }
        return Response(self.OutputSerializer(out, context={"tz": ZoneInfo(result.timezone)}).data)
