"""The manager API, catalog half: what the admin does for one business, for a business app to be built on.

Paths live under `/api/v1/manage/businesses/<slug>/` (a business's owners and managers; its staff read some) and
`/api/v1/manage/me/` (a staff member's own schedule and time off requests). `ScopeMiddleware` puts these paths in
an enforced scope; `ManageApi.initial` resolves the business from the slug (404 `not_found` for an unknown
business or one the caller has no membership of), checks the role, and enters `for_businesses(business)` for the
rest of the request, so that every query of a handler is filtered to that business and a handler that forgets
the business cannot see another one's rows. Ids in a body (a branch, a service) are looked up through the scoped
managers: another business's id is simply not found (400 with a field error).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, ClassVar, cast

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.phone import PhoneField
from apps.catalog import services
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Service,
    Staff,
    TimeOffRequest,
    WorkingHours,
)
from apps.catalog.selectors import (
    OPERATOR,
    business_role_get,
    holiday_suggestions,
    staff_get_for_user,
    tax_profile_missing,
    vat_unreachable_prices,
)
from apps.core.errors import NotFound, PermissionDenied
from apps.core.fields import BoundedDateField, BoundedDateTimeField
from apps.core.idempotency import idempotent
from apps.core.money import MoneySerializer
from apps.core.pagination import Pagination
from apps.core.scoping import for_businesses

TAGS = ["manage"]
MANAGERS = frozenset({Membership.Role.OWNER, Membership.Role.MANAGER, OPERATOR})
MEMBERS = MANAGERS | {Membership.Role.STAFF}
SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The business's slug.")


# --- the base views ---------------------------------------------------------------------------------------


# Base of every `/manage/businesses/<slug>/...` view. `read_roles` may call the safe methods, `write_roles` the
# others; a member with another role gets 403, anyone else 404. Each handler runs inside the business's scope.
class ManageApi(APIView):
    permission_classes = [IsAuthenticated]
    read_roles: ClassVar[frozenset[str]] = MANAGERS
    write_roles: ClassVar[frozenset[str]] = MANAGERS
    business: Business
    role: str
    user: User  # the authenticated caller

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with ExitStack() as stack:
            self._scope = stack  # entered by `initial`, left when the response (or its error) is built
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self.enter_scope(request, **kwargs)

    def enter_scope(self, request: Request, **kwargs: Any) -> None:
        self.user = cast(User, request.user)  # IsAuthenticated has let only a signed-in user through
        business, role = business_role_get(user=self.user, slug=kwargs["slug"])
        allowed = self.read_roles if request.method in SAFE_METHODS else self.write_roles
        if role not in allowed:
            raise PermissionDenied()
        self.business, self.role = business, role
        self._scope.enter_context(for_businesses(business.pk))

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS

    def paginate(self, request: Request, qs: QuerySet[Any], serializer: type[serializers.Serializer]) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        context = {"tz": self.business.tz}
        return paginator.get_paginated_response(serializer(page, many=True, context=context).data)

    @staticmethod
    def get_row(qs: QuerySet[Any], pk: int) -> Any:
        row = qs.filter(pk=pk).first()
        if row is None:
            raise NotFound()
        return row


# Base of the `/manage/me/...` views: the caller's own staff profile decides the business (404 without one).
class ManageMeApi(ManageApi):
    read_roles = write_roles = frozenset({Membership.Role.STAFF, *MANAGERS})
    staff: Staff

    def enter_scope(self, request: Request, **kwargs: Any) -> None:
        self.user = cast(User, request.user)
        self.staff = staff_get_for_user(self.user)
        self.business, self.role = self.staff.business, Membership.Role.STAFF
        self._scope.enter_context(for_businesses(self.business.pk))


class LocalDateTimeField(BoundedDateTimeField):
    """In: ISO 8601 with its offset (naive: refused), 1970-9000. Out: in the business time zone (`context["tz"]`)."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError as exc:
                raise serializers.ValidationError(_("Not a valid date and time.")) from exc
            if parsed is not None and parsed.utcoffset() is None:
                raise serializers.ValidationError(_("Include the UTC offset, e.g. 2026-12-01T09:00:00+03:00."))
        return super().to_internal_value(value)

    def to_representation(self, value: Any) -> Any:
        tz = self.context.get("tz")
        return value.astimezone(tz).isoformat() if tz and value is not None else super().to_representation(value)


# --- shapes -----------------------------------------------------------------------------------------------


class ManageBranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = [
            "id",
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
        read_only_fields = ["id"]


class ManageServiceSerializer(serializers.ModelSerializer):
    price = MoneySerializer(read_only=True)
    branches = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects, many=True, required=False, help_text="Where it is offered; empty: every branch."
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "name_en",
            "name_ar",
            "description_en",
            "description_ar",
            "duration_minutes",
            "price_amount",
            "price",
            "payment_policy",
            "deposit_amount",
            "deposit_percent",
            "late_cancel_fee_amount",
            "late_cancel_fee_percent",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "is_active",
            "display_order",
            "branches",
        ]
        read_only_fields = ["id", "price"]


class ManageStaffSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="user.phone", read_only=True)
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects, required=False)
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects, many=True, required=False)

    class Meta:
        model = Staff
        fields = ["id", "phone", "display_name", "bio", "photo_url", "branch", "services", "is_active", "display_order"]
        read_only_fields = ["id", "phone"]


class ManageStaffCreateSerializer(ManageStaffSerializer):
    phone = PhoneField(write_only=True, help_text="The person's mobile number; they sign in with it.")
    name = serializers.CharField(max_length=150, write_only=True, help_text="The person's name.")
    display_name = serializers.CharField(max_length=150, required=False, help_text="Shown to customers; the name.")
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects)

    class Meta(ManageStaffSerializer.Meta):
        fields = [*ManageStaffSerializer.Meta.fields, "name"]
        read_only_fields = ["id"]


class WeeklySpanSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start_time", "end_time"]


class WeeklyHoursSerializer(serializers.Serializer):
    hours = WeeklySpanSerializer(many=True, help_text="Every weekly span; several a day leave gaps (breaks).")


@extend_schema_serializer(component_name="ScheduleTimeOff")
class TimeOffSerializer(serializers.ModelSerializer):
    start = LocalDateTimeField()
    end = LocalDateTimeField()

    class Meta:
        model = ScheduleException
        fields = ["id", "staff", "kind", "start", "end", "reason"]
        read_only_fields = ["id", "staff", "kind"]


class ManageClosureSerializer(serializers.ModelSerializer):
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects, allow_null=True, required=False, help_text="Null: the whole business."
    )
    start_date = BoundedDateField()
    end_date = BoundedDateField()

    class Meta:
        model = Closure
        fields = ["id", "name", "branch", "start_date", "end_date"]
        read_only_fields = ["id"]


class UnreachablePriceSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    name = serializers.CharField()
    price_amount = serializers.IntegerField(help_text="The list price (minor units).")
    charged_amount = serializers.IntegerField(help_text="What a booking records and charges: the invoice total.")
    lower = serializers.IntegerField(help_text="The nearest price below that an invoice can total.")
    upper = serializers.IntegerField(help_text="The nearest price above that an invoice can total.")


class PoliciesSerializer(serializers.ModelSerializer):
    service_area = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=200, required=False, help_text="City names."
    )
    vat_registered = serializers.SerializerMethodField(help_text="Whether a VAT number is set.")
    vat_unreachable_prices = serializers.SerializerMethodField(
        help_text=(
            "VAT-registered only: active services whose price no tax invoice can total (set before the business "
            "registered). Each is charged as `charged_amount`; set the price to `lower` or `upper` to fix it."
        )
    )
    tax_profile_missing = serializers.SerializerMethodField(
        help_text=(
            "VAT-registered without a tax profile: invoices are still issued but state no seller address; set it "
            "at `tax-profile`."
        )
    )

    class Meta:
        model = Business
        fields = [
            "slug",
            "is_active",
            "currency",
            "commission_bps",
            *services.POLICY_FIELDS,
            "vat_registered",
            "vat_unreachable_prices",
            "tax_profile_missing",
        ]
        read_only_fields = ["slug", "is_active", "currency", "commission_bps"]

    def get_vat_registered(self, obj: Business) -> bool:
        return obj.is_vat_registered

    def get_tax_profile_missing(self, obj: Business) -> bool:
        return tax_profile_missing(obj)

    @extend_schema_field(UnreachablePriceSerializer(many=True))
    def get_vat_unreachable_prices(self, obj: Business) -> list[dict[str, Any]]:
        return list(UnreachablePriceSerializer(vat_unreachable_prices(obj), many=True).data)


@extend_schema_serializer(component_name="StaffTimeOffRequest")
class TimeOffRequestSerializer(serializers.ModelSerializer):
    start = LocalDateTimeField()
    end = LocalDateTimeField()
    decided_at = LocalDateTimeField(read_only=True)
    created_at = LocalDateTimeField(read_only=True)

    class Meta:
        model = TimeOffRequest
        fields = [
            "id",
            "staff",
            "start",
            "end",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "time_off",
            "created_at",
        ]
        read_only_fields = [f for f in fields if f not in ("start", "end", "reason")]


@extend_schema_serializer(component_name="TimeOffDecision")
class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


def _input(serializer: type[serializers.Serializer], request: Request, *, partial: bool = False, **kw: Any) -> Any:
    s = serializer(data=request.data, partial=partial, **kw)
    s.is_valid(raise_exception=True)
    return s.validated_data


def _split(data: dict[str, Any], *names: str) -> tuple[dict[str, Any], ...]:
    data = dict(data)
    picked = tuple({n: data.pop(n)} if n in data else {} for n in names)
    return (data, *picked)


def _id_param(name: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, OpenApiParameter.PATH)


# --- branches ---------------------------------------------------------------------------------------------


class BranchListCreateApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_branches_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: ManageBranchSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.paginate(request, Branch.objects.order_by("display_order", "id"), ManageBranchSerializer)

    @extend_schema(
        operation_id="manage_branches_create",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageBranchSerializer,
        responses={201: ManageBranchSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        branch = services.branch_save(business=self.business, fields=_input(ManageBranchSerializer, request))
        return Response(ManageBranchSerializer(branch).data, status=201)


class BranchDetailApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_branches_retrieve", tags=TAGS, parameters=[SLUG], responses={200: ManageBranchSerializer}
    )
    def get(self, request: Request, slug: str, branch_id: int) -> Response:
        return Response(ManageBranchSerializer(self.get_row(Branch.objects.all(), branch_id)).data)

    @extend_schema(
        operation_id="manage_branches_update",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageBranchSerializer,
        responses={200: ManageBranchSerializer},
    )
    def patch(self, request: Request, slug: str, branch_id: int) -> Response:
        branch = self.get_row(Branch.objects.all(), branch_id)
        fields = _input(ManageBranchSerializer, request, partial=True)
        branch = services.branch_save(business=self.business, branch=branch, fields=fields)
        return Response(ManageBranchSerializer(branch).data)

    @extend_schema(operation_id="manage_branches_destroy", tags=TAGS, parameters=[SLUG], responses={204: None})
    def delete(self, request: Request, slug: str, branch_id: int) -> Response:
        services.catalog_row_delete(business=self.business, row=self.get_row(Branch.objects.all(), branch_id))
        return Response(status=204)


# --- services ---------------------------------------------------------------------------------------------


def _services() -> QuerySet[Service]:
    return Service.objects.prefetch_related("branches").order_by("display_order", "id")


class ServiceListCreateApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_services_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: ManageServiceSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.paginate(request, _services(), ManageServiceSerializer)

    @extend_schema(
        operation_id="manage_services_create",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageServiceSerializer,
        responses={201: ManageServiceSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        fields, branches = _split(_input(ManageServiceSerializer, request), "branches")
        service = services.service_save(business=self.business, fields=fields, branches=branches.get("branches", []))
        return Response(ManageServiceSerializer(service).data, status=201)


class ServiceDetailApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_services_retrieve", tags=TAGS, parameters=[SLUG], responses={200: ManageServiceSerializer}
    )
    def get(self, request: Request, slug: str, service_id: int) -> Response:
        return Response(ManageServiceSerializer(self.get_row(_services(), service_id)).data)

    @extend_schema(
        operation_id="manage_services_update",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageServiceSerializer,
        responses={200: ManageServiceSerializer},
    )
    def patch(self, request: Request, slug: str, service_id: int) -> Response:
        service = self.get_row(_services(), service_id)
        fields, branches = _split(_input(ManageServiceSerializer, request, partial=True), "branches")
        service = services.service_save(
            business=self.business, service=service, fields=fields, branches=branches.get("branches")
        )
        return Response(ManageServiceSerializer(self.get_row(_services(), service.pk)).data)

    @extend_schema(operation_id="manage_services_destroy", tags=TAGS, parameters=[SLUG], responses={204: None})
    def delete(self, request: Request, slug: str, service_id: int) -> Response:
        services.catalog_row_delete(business=self.business, row=self.get_row(Service.objects.all(), service_id))
        return Response(status=204)


# --- staff ------------------------------------------------------------------------------------------------


def _staff() -> QuerySet[Staff]:
    return Staff.objects.select_related("user").prefetch_related("services").order_by("display_order", "id")


class StaffListCreateApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_staff_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: ManageStaffSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.paginate(request, _staff(), ManageStaffSerializer)

    @extend_schema(
        operation_id="manage_staff_create",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageStaffCreateSerializer,
        responses={201: ManageStaffSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        data = _input(ManageStaffCreateSerializer, request)
        fields, phone, name, branch, offered = _split(data, "phone", "name", "branch", "services")
        staff = services.staff_create(
            business=self.business,
            phone=phone["phone"],
            name=name["name"],
            branch=branch["branch"],
            fields=fields,
            services=offered.get("services", []),
        )
        return Response(ManageStaffSerializer(self.get_row(_staff(), staff.pk)).data, status=201)


class StaffDetailApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_staff_retrieve", tags=TAGS, parameters=[SLUG], responses={200: ManageStaffSerializer}
    )
    def get(self, request: Request, slug: str, staff_id: int) -> Response:
        return Response(ManageStaffSerializer(self.get_row(_staff(), staff_id)).data)

    @extend_schema(
        operation_id="manage_staff_update",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageStaffSerializer,
        responses={200: ManageStaffSerializer},
    )
    def patch(self, request: Request, slug: str, staff_id: int) -> Response:
        staff = self.get_row(_staff(), staff_id)
        fields, branch, offered = _split(_input(ManageStaffSerializer, request, partial=True), "branch", "services")
        services.staff_update(
            business=self.business,
            staff=staff,
            fields=fields,
            branch=branch.get("branch"),
            services=offered.get("services"),
        )
        return Response(ManageStaffSerializer(self.get_row(_staff(), staff_id)).data)

    @extend_schema(operation_id="manage_staff_destroy", tags=TAGS, parameters=[SLUG], responses={204: None})
    def delete(self, request: Request, slug: str, staff_id: int) -> Response:
        services.catalog_row_delete(business=self.business, row=self.get_row(Staff.objects.all(), staff_id))
        return Response(status=204)


class StaffHoursApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_staff_hours_retrieve", tags=TAGS, parameters=[SLUG], responses={200: WeeklyHoursSerializer}
    )
    def get(self, request: Request, slug: str, staff_id: int) -> Response:
        staff = self.get_row(Staff.objects.all(), staff_id)
        hours = WorkingHours.objects.filter(staff=staff).order_by("weekday", "start_time")
        return Response(WeeklyHoursSerializer({"hours": hours}).data)

    @extend_schema(
        operation_id="manage_staff_hours_replace",
        tags=TAGS,
        parameters=[SLUG],
        request=WeeklyHoursSerializer,
        responses={200: WeeklyHoursSerializer},
    )
    def put(self, request: Request, slug: str, staff_id: int) -> Response:
        data = _input(WeeklyHoursSerializer, request)
        spans = [services.WeeklySpan(**span) for span in data["hours"]]
        hours = services.working_hours_replace(business=self.business, staff_id=staff_id, spans=spans)
        return Response(WeeklyHoursSerializer({"hours": hours}).data)


class StaffTimeOffApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_staff_time_off_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: TimeOffSerializer(many=True)},
    )
    def get(self, request: Request, slug: str, staff_id: int) -> Response:
        staff = self.get_row(Staff.objects.all(), staff_id)
        qs = ScheduleException.objects.filter(staff=staff).order_by("-start", "-id")
        return self.paginate(request, qs, TimeOffSerializer)

    @extend_schema(
        operation_id="manage_staff_time_off_create",
        tags=TAGS,
        parameters=[SLUG],
        request=TimeOffSerializer,
        responses={201: TimeOffSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str, staff_id: int) -> Response:
        staff = self.get_row(Staff.objects.all(), staff_id)
        data = _input(TimeOffSerializer, request)
        time_off = services.time_off_create(staff_id=staff.pk, **data)
        return Response(TimeOffSerializer(time_off, context={"tz": self.business.tz}).data, status=201)


class StaffTimeOffDetailApi(ManageApi):
    @extend_schema(operation_id="manage_staff_time_off_destroy", tags=TAGS, parameters=[SLUG], responses={204: None})
    def delete(self, request: Request, slug: str, staff_id: int, time_off_id: int) -> Response:
        row = self.get_row(ScheduleException.objects.filter(staff_id=staff_id), time_off_id)
        services.catalog_row_delete(business=self.business, row=row)
        return Response(status=204)


# --- closures ---------------------------------------------------------------------------------------------


class ClosureListCreateApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_closures_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: ManageClosureSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.paginate(request, Closure.objects.order_by("-start_date", "id"), ManageClosureSerializer)

    @extend_schema(
        operation_id="manage_closures_create",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageClosureSerializer,
        responses={201: ManageClosureSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        fields, branch = _split(_input(ManageClosureSerializer, request), "branch")
        closure = services.closure_save(business=self.business, fields=fields, branch=branch.get("branch"))
        return Response(ManageClosureSerializer(closure).data, status=201)


class ClosureDetailApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_closures_retrieve", tags=TAGS, parameters=[SLUG], responses={200: ManageClosureSerializer}
    )
    def get(self, request: Request, slug: str, closure_id: int) -> Response:
        return Response(ManageClosureSerializer(self.get_row(Closure.objects.all(), closure_id)).data)

    @extend_schema(
        operation_id="manage_closures_update",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageClosureSerializer,
        responses={200: ManageClosureSerializer},
    )
    def patch(self, request: Request, slug: str, closure_id: int) -> Response:
        closure = self.get_row(Closure.objects.all(), closure_id)
        data = _input(ManageClosureSerializer, request, partial=True)
        fields, branch = _split(data, "branch")
        closure = services.closure_save(
            business=self.business,
            closure=closure,
            fields=fields,
            branch=branch.get("branch", closure.branch),
        )
        return Response(ManageClosureSerializer(closure).data)

    @extend_schema(operation_id="manage_closures_destroy", tags=TAGS, parameters=[SLUG], responses={204: None})
    def delete(self, request: Request, slug: str, closure_id: int) -> Response:
        services.catalog_row_delete(business=self.business, row=self.get_row(Closure.objects.all(), closure_id))
        return Response(status=204)


# --- public holidays as closures -----------------------------------------------------------------------------


class HolidaySerializer(serializers.Serializer):
    key = serializers.CharField(help_text='Stable: "eid_al_fitr_1448", "national_day_2027". Send it to accept.')
    name = serializers.CharField(help_text="The closure's name when accepted (English — Arabic).")
    name_en = serializers.CharField()
    name_ar = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class HolidayAcceptSerializer(serializers.Serializer):
    keys = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, help_text="Keys from the holidays list."
    )


class HolidayListApi(ManageApi):
    @extend_schema(
        operation_id="manage_holidays_list",
        tags=TAGS,
        parameters=[SLUG],
        description="The coming year's Saudi public holidays (Eid al-Fitr, Eid al-Adha, Founding Day, National "
        "Day) that no closure of the whole business covers yet: suggestions to accept as closures.",
        responses={200: HolidaySerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(HolidaySerializer(holiday_suggestions(business=self.business), many=True).data)


class HolidayAcceptApi(ManageApi):
    @extend_schema(
        operation_id="manage_holidays_accept",
        tags=TAGS,
        parameters=[SLUG],
        description="Accept suggested holidays as closures of the whole business; a key accepted already creates "
        "nothing (the answer lists only the closures created now).",
        request=HolidayAcceptSerializer,
        responses={200: ManageClosureSerializer(many=True)},
    )
    def post(self, request: Request, slug: str) -> Response:
        keys = _input(HolidayAcceptSerializer, request)["keys"]
        created = services.holidays_accept(business=self.business, keys=keys)
        return Response(ManageClosureSerializer(created, many=True).data)


# --- policies and public profile ----------------------------------------------------------------------------


class PoliciesApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_policies_retrieve", tags=TAGS, parameters=[SLUG], responses={200: PoliciesSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(PoliciesSerializer(self.business).data)

    @extend_schema(
        operation_id="manage_policies_update",
        tags=TAGS,
        parameters=[SLUG],
        request=PoliciesSerializer,
        responses={200: PoliciesSerializer},
    )
    def patch(self, request: Request, slug: str) -> Response:
        fields = _input(PoliciesSerializer, request, partial=True, instance=self.business)
        return Response(
            PoliciesSerializer(services.business_update_policies(business=self.business, fields=fields)).data
        )


# --- time off requests ------------------------------------------------------------------------------------


class TimeOffRequestListApi(ManageApi):
    @extend_schema(
        operation_id="manage_time_off_requests_list",
        tags=TAGS,
        parameters=[SLUG, OpenApiParameter("status", OpenApiTypes.STR, enum=TimeOffRequest.Status.values)],
        responses={200: TimeOffRequestSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        qs = TimeOffRequest.objects.order_by("-created_at", "-id")
        status = request.query_params.get("status")
        if status:
            if status not in TimeOffRequest.Status.values:
                raise serializers.ValidationError({"status": ["Unknown status."]})
            qs = qs.filter(status=status)
        return self.paginate(request, qs, TimeOffRequestSerializer)


class _DecideApi(ManageApi):
    approve: ClassVar[bool]

    def post(self, request: Request, slug: str, request_id: int) -> Response:
        note = _input(DecisionSerializer, request)["note"]
        decided = services.time_off_request_decide(
            business=self.business, request_id=request_id, approve=self.approve, actor=self.user, note=note
        )
        return Response(TimeOffRequestSerializer(decided, context={"tz": self.business.tz}).data)


class TimeOffRequestApproveApi(_DecideApi):
    approve = True

    @extend_schema(
        operation_id="manage_time_off_requests_approve",
        tags=TAGS,
        parameters=[SLUG],
        request=DecisionSerializer,
        responses={200: TimeOffRequestSerializer},
    )
    def post(self, request: Request, slug: str, request_id: int) -> Response:
        return super().post(request, slug, request_id)


class TimeOffRequestDeclineApi(_DecideApi):
    approve = False

    @extend_schema(
        operation_id="manage_time_off_requests_decline",
        tags=TAGS,
        parameters=[SLUG],
        request=DecisionSerializer,
        responses={200: TimeOffRequestSerializer},
    )
    def post(self, request: Request, slug: str, request_id: int) -> Response:
        return super().post(request, slug, request_id)


# --- a staff member's own requests --------------------------------------------------------------------------


class MyTimeOffApi(ManageMeApi):
    @extend_schema(
        operation_id="manage_me_time_off_list", tags=TAGS, responses={200: TimeOffRequestSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        qs = TimeOffRequest.objects.filter(staff=self.staff).order_by("-created_at", "-id")
        return self.paginate(request, qs, TimeOffRequestSerializer)

    @extend_schema(
        operation_id="manage_me_time_off_request",
        tags=TAGS,
        request=TimeOffRequestSerializer,
        responses={201: TimeOffRequestSerializer},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _input(TimeOffRequestSerializer, request)
        created = services.time_off_request_create(staff=self.staff, **data)
        return Response(TimeOffRequestSerializer(created, context={"tz": self.business.tz}).data, status=201)
