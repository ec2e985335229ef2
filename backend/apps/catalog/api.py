"""Public catalog and availability API: no login, rate limited per client address.

Every response carries a `Server-Timing` header: `app` (the whole view: throttle, selectors, serialization and
JSON rendering), `db` (this view's own queries: count, and time spent executing them, i.e. round trips and
server work; turning rows into Python objects is not included) and `throttle` (the rate limiter's queries: its
counters live in the cache, which is the database).
"""

from __future__ import annotations

import math
import time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apps.catalog import discovery, selectors
from apps.catalog.models import Business, PaymentPolicy, Service
from apps.catalog.payment_terms import payment_terms
from apps.core.money import Money, MoneySerializer
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
    payment_policy = serializers.SerializerMethodField(
        help_text="How a booking is paid: `full` (the whole price online), `deposit` (part online, the rest at the "
        "venue) or `venue` (nothing online: confirmed when booked)."
    )
    amount_due_online = serializers.SerializerMethodField(
        help_text="What is paid online to confirm a booking (the price, the deposit, or 0 at the venue)."
    )

    @extend_schema_field(serializers.ChoiceField(choices=PaymentPolicy.choices))
    def get_payment_policy(self, service: Service) -> str:
        return payment_terms(service, service.business).policy

    @extend_schema_field(MoneySerializer())
    def get_amount_due_online(self, service: Service) -> dict[str, Any]:
        return Money(payment_terms(service, service.business).online_amount, service.currency).as_dict()


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
        description=f"In display order, at most {selectors.LIST_LIMIT}. Names and descriptions follow `Accept-Language`. "
        "The services of the only active business of this server; where several businesses use it, 404 "
        "`business_required`: ask `GET /api/v1/businesses/SLUG/services`.",
        responses={
            200: ServiceOutputSerializer(many=True),
            404: OpenApiResponse(description="`business_required`: several businesses, name one."),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(selectors.service_list_legacy(), many=True).data)


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
        "gives an empty list. Without `service`: the staff of the only active business of this server; where "
        "several businesses use it, 404 `business_required` (ask `GET /api/v1/businesses/SLUG/staff`).",
        parameters=[InputSerializer],
        responses={
            200: StaffOutputSerializer(many=True),
            404: OpenApiResponse(description="`business_required`: several businesses, name one."),
        },
    )
    def get(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        service_id = s.validated_data.get("service")  # a service names its business
        staff = selectors.staff_list(service_id=service_id) if service_id else selectors.staff_list_legacy()
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


# --- businesses (discovery and a business's own catalog) -------------------------------------------------------


class NearField(serializers.CharField):
    """`LAT,LNG` in decimal degrees."""

    def to_internal_value(self, data: Any) -> tuple[float, float]:
        text = super().to_internal_value(data)
        try:
            lat_text, lng_text = text.split(",")
            lat, lng = float(lat_text), float(lng_text)
        except ValueError as exc:
            raise serializers.ValidationError("Give LAT,LNG in decimal degrees, e.g. 24.7136,46.6753.") from exc
        if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
            raise serializers.ValidationError("Latitude must be within -90..90 and longitude within -180..180.")
        return lat, lng


@extend_schema_serializer(component_name="Branch")
class BranchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the language of the request.")
    city = serializers.CharField()
    district = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    contact_phone = serializers.CharField()
    map_url = serializers.CharField(help_text="A map link, empty without coordinates.")


@extend_schema_serializer(component_name="PriceRange")
class PriceRangeSerializer(serializers.Serializer):
    min = MoneySerializer()
    max = MoneySerializer()


@extend_schema_serializer(component_name="Rating")
class RatingSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True, help_text="Null until reviews exist.")
    count = serializers.IntegerField()


@extend_schema_serializer(component_name="NextAvailable")
class NextAvailableSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="In the business time zone.")
    service = serializers.IntegerField(
        help_text="The service it is for: the first matching `service=`, else the shortest."
    )
    staff = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the staff free then.")


_RATING = {"average": None, "count": 0}  # a placeholder until reviews exist


def _branch(branch: Any) -> dict[str, Any]:
    return {
        "id": branch.pk,
        "name": branch.name,
        "city": branch.city,
        "district": branch.district,
        "address": branch.address,
        "latitude": branch.latitude,
        "longitude": branch.longitude,
        "contact_phone": branch.contact_phone,
        "map_url": branch.map_url,
    }


def _business_summary(business: Any) -> dict[str, Any]:
    return {
        "slug": business.slug,
        "name": business.name,
        "name_ar": business.name_ar,
        "name_en": business.name_en,
        "category": business.category,
        "description": business.description,
        "logo_url": business.logo_url,
        "serves_at_home": business.serves_at_home,
        "timezone": business.timezone,
    }


@extend_schema_serializer(component_name="BusinessSummary")
class BusinessHitSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField(help_text="In the language of the request.")
    name_ar = serializers.CharField()
    name_en = serializers.CharField()
    category = serializers.ChoiceField(choices=Business.Category.choices)
    description = serializers.CharField()
    logo_url = serializers.CharField()
    serves_at_home = serializers.BooleanField()
    timezone = serializers.CharField()
    city = serializers.CharField(help_text="The city of `branch` (empty when it has none).")
    district = serializers.CharField()
    branch = BranchSerializer(allow_null=True, help_text="The nearest branch with `near`, else the first one.")
    branch_count = serializers.IntegerField()
    distance_km = serializers.FloatField(required=False, help_text="Only with `near`: to the nearest branch, 0.1 km.")
    price_range = PriceRangeSerializer(allow_null=True, help_text="Of its active services; null when it has none.")
    rating = RatingSerializer()
    next_available = NextAvailableSerializer(
        allow_null=True, help_text=f"Its first bookable slot within {discovery.NEXT_DAYS} days; null when none."
    )

    def to_representation(self, hit: discovery.BusinessHit) -> dict[str, Any]:
        tz = hit.business.tz
        out = _business_summary(hit.business)
        out |= {
            "city": hit.branch.city if hit.branch else "",
            "district": hit.branch.district if hit.branch else "",
            "branch": _branch(hit.branch) if hit.branch else None,
            "branch_count": len(hit.branches),
        }
        if hit.distance_km is not None:
            out["distance_km"] = hit.distance_km
        out["price_range"] = (
            {"min": hit.price_min.as_dict(), "max": hit.price_max.as_dict()}
            if hit.price_min is not None and hit.price_max is not None
            else None
        )
        out["rating"] = dict(_RATING)
        found = hit.next_available
        out["next_available"] = (
            {"start": found.start.astimezone(tz).isoformat(), "service": found.service.pk, "staff": found.staff_ids}
            if found
            else None
        )
        return out


class BusinessListApi(PublicApi):
    @extend_schema_serializer(component_name="BusinessSearchQuery")
    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text="Words to find in names (Arabic or English), services, cities and districts. Arabic is "
            "matched the way people type it: alef forms, taa marbuta / haa, alef maqsura / yaa, tatweel and "
            "diacritics are ignored.",
        )
        city = serializers.CharField(
            required=False, allow_blank=True, max_length=100, help_text="A city, in Arabic or English."
        )
        category = serializers.ChoiceField(choices=Business.Category.choices, required=False)
        service = serializers.CharField(
            required=False, allow_blank=True, max_length=200, help_text="Words of a service's name (e.g. قص شعر)."
        )
        near = NearField(required=False, help_text="LAT,LNG: only businesses within `radius_km`, nearest first.")
        radius_km = serializers.FloatField(
            required=False, min_value=0.1, max_value=discovery.MAX_RADIUS_KM, default=discovery.DEFAULT_RADIUS_KM
        )
        page = serializers.IntegerField(required=False, min_value=1, max_value=discovery.MAX_PAGE, default=1)
        page_size = serializers.IntegerField(
            required=False, min_value=1, max_value=discovery.MAX_PAGE_SIZE, default=discovery.PAGE_SIZE
        )

    @extend_schema_serializer(component_name="PaginatedBusinessList")
    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField(help_text=f"Matches, exact up to {discovery.COUNT_CAP}.")
        count_capped = serializers.BooleanField(help_text=f"True: {discovery.COUNT_CAP} or more.")
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = BusinessHitSerializer(many=True)

    @extend_schema(
        operation_id="businesses_list",
        tags=TAGS,
        summary="Find businesses",
        description=(
            "Listed, active businesses matching every filter given, by name, or nearest first with `near` "
            "(then `distance_km` is in each result). Each result has its price range, a rating placeholder and "
            "its next available slot."
        ),
        parameters=[InputSerializer],
        responses={200: OutputSerializer, 400: OpenApiResponse(description="`validation_error`.")},
    )
    def get(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        search = discovery.Search(
            q=data.get("q", ""),
            city=data.get("city", ""),
            category=data.get("category", ""),
            service=data.get("service", ""),
            near=data.get("near"),
            radius_km=data["radius_km"],
            page=data["page"],
            page_size=data["page_size"],
        )
        result = discovery.business_search(search)
        url = request.build_absolute_uri()
        page = search.page
        out = {
            "count": result.count,
            "count_capped": result.count_capped,
            "next": replace_query_param(url, "page", page + 1)
            if result.has_next and page < discovery.MAX_PAGE
            else None,
            "previous": (
                None
                if page == 1
                else (remove_query_param(url, "page") if page == 2 else replace_query_param(url, "page", page - 1))
            ),
            "results": [BusinessHitSerializer(hit).data for hit in result.hits],
        }
        return Response(out)


@extend_schema_serializer(component_name="BusinessDetail")
class BusinessDetailSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    name_ar = serializers.CharField()
    name_en = serializers.CharField()
    category = serializers.ChoiceField(choices=Business.Category.choices)
    description = serializers.CharField()
    logo_url = serializers.CharField()
    serves_at_home = serializers.BooleanField()
    timezone = serializers.CharField()
    contact_phone = serializers.CharField()
    service_area = serializers.ListField(child=serializers.CharField(), help_text="Cities a home service covers.")
    currency = serializers.CharField()
    require_payment = serializers.BooleanField()
    cancellation_cutoff_hours = serializers.IntegerField()
    rating = RatingSerializer()
    branches = BranchSerializer(many=True)
    services = serializers.ListField(
        child=ServiceOutputSerializer(), help_text="As `GET .../services`, plus `branches`."
    )
    staff = serializers.ListField(child=StaffOutputSerializer(), help_text="As `GET .../staff`, plus `branch`.")


class BusinessDetailApi(PublicApi):
    @extend_schema(
        operation_id="businesses_retrieve",
        tags=TAGS,
        summary="One business with its branches, services and staff",
        responses={200: BusinessDetailSerializer, 404: OpenApiResponse(description="Unknown or unlisted business.")},
    )
    def get(self, request: Request, slug: str) -> Response:
        found = selectors.business_profile(slug)
        business = found.business
        out = _business_summary(business) | {
            "contact_phone": business.contact_phone,
            "service_area": [c for c in business.service_area if isinstance(c, str)],
            "currency": business.currency,
            "require_payment": business.require_payment,
            "cancellation_cutoff_hours": business.cancellation_cutoff_hours,
            "rating": dict(_RATING),
            "branches": [_branch(b) for b in found.branches],
            "services": [ServiceOutputSerializer(s).data | {"branches": list(s.branch_ids)} for s in found.services],
            "staff": [StaffOutputSerializer(s).data | {"branch": s.branch_id} for s in found.staff],
        }
        return Response(out)


class BusinessServiceListApi(PublicApi):
    @extend_schema(
        operation_id="businesses_services_list",
        tags=TAGS,
        summary="A business's active services",
        description="As `GET /api/v1/services`, for this business.",
        responses={200: ServiceOutputSerializer(many=True), 404: OpenApiResponse(description="Unknown business.")},
    )
    def get(self, request: Request, slug: str) -> Response:
        business = selectors.business_get_public(slug)
        return Response(ServiceOutputSerializer(selectors.service_list(business_id=business.pk), many=True).data)


class BusinessStaffListApi(PublicApi):
    @extend_schema(
        operation_id="businesses_staff_list",
        tags=TAGS,
        summary="A business's active staff",
        description="As `GET /api/v1/staff`, for this business.",
        parameters=[StaffListApi.InputSerializer],
        responses={200: StaffOutputSerializer(many=True), 404: OpenApiResponse(description="Unknown business.")},
    )
    def get(self, request: Request, slug: str) -> Response:
        s = StaffListApi.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        business = selectors.business_get_public(slug)
        staff = selectors.staff_list(service_id=s.validated_data.get("service"), business_id=business.pk)
        return Response(StaffOutputSerializer(staff, many=True).data)


class BusinessAvailabilityApi(PublicApi):
    @extend_schema_serializer(component_name="BusinessAvailabilityQuery")
    class InputSerializer(AnyStaffAvailabilityApi.InputSerializer):
        branch = serializers.IntegerField(
            required=False, min_value=1, max_value=_ID_MAX, help_text="Only the staff of this branch."
        )

    @extend_schema(
        operation_id="businesses_availability",
        tags=TAGS,
        summary="Bookable start times with any staff member of a business",
        description=(
            "As `GET /api/v1/availability`, for this business: the staff who can give the service (at an active "
            "branch where it is offered; at `branch` when given). `POST /bookings` without `staff` books one of "
            "those listed for the slot."
        ),
        parameters=[InputSerializer],
        responses={
            200: AnyStaffAvailabilityApi.OutputSerializer,
            400: OpenApiResponse(description="`validation_error`."),
            404: OpenApiResponse(description="Unknown business, or unknown or inactive service of it."),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        business = selectors.business_get_public(slug)
        service = selectors.service_get_active(data["service"], business_id=business.pk)
        service.staff_ids = selectors.service_givers(service_id=service.pk, branch_id=data.get("branch"))  # type: ignore[attr-defined]
        result = selectors.slot_list_any_staff(service=service, date=data.get("date"))
        out = {
            "service": result.service.pk,
            "date": result.date,
            "timezone": result.timezone,
            "staff": result.staff_ids,
            "slots": result.slots,
        }
        return Response(AnyStaffAvailabilityApi.OutputSerializer(out, context={"tz": ZoneInfo(result.timezone)}).data)
