"""The manager API's seasonal hours (`/api/v1/manage/businesses/<slug>/seasons...`): list, create, change and
delete seasons, and "Ramadan hours" in one tap (`seasons/ramadan-proposal`, `seasons/ramadan`). Same base,
roles and tenancy as the rest of `apps.catalog.manage_api`; the writes are `apps.catalog.seasons`."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import seasons
from apps.catalog.manage_api import MEMBERS, SLUG, TAGS, ManageApi, _input, _split
from apps.catalog.models import Branch, Season, SeasonalHours, Staff, WorkingHours
from apps.core.fields import BoundedDateField
from apps.core.idempotency import idempotent


class SeasonSpanSerializer(serializers.Serializer):
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Staff.objects,
        allow_null=True,
        required=False,
        default=None,
        help_text="A staff member the season covers (their own spans replace the general ones for them); null or "
        "absent: everyone's, staff added later too.",
    )
    weekday = serializers.ChoiceField(choices=WorkingHours.Weekday.choices, help_text="0 = Monday ... 6 = Sunday.")
    start_time = serializers.TimeField()
    end_time = serializers.TimeField(help_text="After the start (no span crosses midnight: 23:59 at the latest).")


class ManageSeasonSerializer(serializers.ModelSerializer):
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects, allow_null=True, required=False, help_text="Null: the whole business."
    )
    start_date = BoundedDateField(help_text="The first day (local), today or later for a new season.")
    end_date = BoundedDateField(help_text="The last day (local), included.")
    hours = SeasonSpanSerializer(
        many=True,
        required=False,
        max_length=seasons.MAX_HOURS,  # type: ignore[call-arg]  # DRF's ListSerializer takes it
        help_text="Required to create. The weekly hours during the season, replacing the staff's usual ones; a "
        "weekday without a span is a day off. Sent: replaces every span of the season.",
    )

    class Meta:
        model = Season
        fields = ["id", "name_en", "name_ar", "branch", "start_date", "end_date", "hours"]
        read_only_fields = ["id"]


class ProposedSpanSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 = Monday ... 6 = Sunday.")
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()


class RamadanProposalSerializer(serializers.Serializer):
    hijri_year = serializers.IntegerField(help_text="1448 for Ramadan 1448 AH.")
    name_en = serializers.CharField()
    name_ar = serializers.CharField()
    start_date = serializers.DateField(help_text="Ramadan's first day (Umm al-Qura), or today when in progress.")
    end_date = serializers.DateField(help_text="Ramadan's last day (Umm al-Qura).")
    hours = ProposedSpanSerializer(many=True, help_text="For everyone (general spans).")
    season = serializers.SerializerMethodField(help_text="The season of the whole business there already, if any.")

    def get_season(self, obj: seasons.RamadanProposal) -> int | None:
        return obj.season.pk if obj.season is not None else None


class RamadanAcceptSerializer(serializers.Serializer):
    name_en = serializers.CharField(max_length=200, required=False)
    name_ar = serializers.CharField(max_length=200, required=False, allow_blank=True)
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects, allow_null=True, required=False, help_text="Null or absent: the whole business."
    )
    start_date = BoundedDateField(required=False, help_text="Absent: the proposal's.")
    end_date = BoundedDateField(required=False, help_text="Absent: the proposal's.")
    hours = SeasonSpanSerializer(
        many=True,
        required=False,
        max_length=seasons.MAX_HOURS,  # type: ignore[call-arg]
        help_text="Absent: the proposal's.",
    )


def _seasons() -> QuerySet[Season]:
    hours = SeasonalHours.objects.order_by(F("staff_id").asc(nulls_first=True), "weekday", "start_time")
    return Season.objects.prefetch_related(Prefetch("hours", queryset=hours)).order_by("-start_date", "id")


def _spans(raw: list[dict[str, Any]]) -> list[seasons.SeasonSpan]:
    return [
        seasons.SeasonSpan(
            weekday=int(span["weekday"]),
            start_time=span["start_time"],
            end_time=span["end_time"],
            staff_id=span["staff"].pk if span.get("staff") is not None else None,
        )
        for span in raw
    ]


def _season_input(
    serializer: type[serializers.Serializer], request: Request, *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, Any], list[seasons.SeasonSpan] | None]:
    """The season's own fields, the branch as sent (`{}` when not sent, else `{"branch": ...}`) and its spans
    (None when not sent)."""
    fields, branch, hours = _split(_input(serializer, request, partial=partial), "branch", "hours")
    return fields, branch, (_spans(hours["hours"]) if "hours" in hours else None)


class SeasonListCreateApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_seasons_list",
        tags=TAGS,
        parameters=[SLUG],
        responses={200: ManageSeasonSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.paginate(request, _seasons(), ManageSeasonSerializer)

    @extend_schema(
        operation_id="manage_seasons_create",
        tags=TAGS,
        parameters=[SLUG],
        description="Seasonal hours: other weekly hours for the staff of the business (or of one branch) on a range "
        "of dates. Refused (400 `season_overlaps`) when another season of the same staff shares a date.",
        request=ManageSeasonSerializer,
        responses={201: ManageSeasonSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        fields, branch, spans = _season_input(ManageSeasonSerializer, request)
        season = seasons.season_save(business=self.business, fields=fields, branch=branch.get("branch"), hours=spans)
        return Response(ManageSeasonSerializer(self.get_row(_seasons(), season.pk)).data, status=201)


class SeasonDetailApi(ManageApi):
    read_roles = MEMBERS

    @extend_schema(
        operation_id="manage_seasons_retrieve", tags=TAGS, parameters=[SLUG], responses={200: ManageSeasonSerializer}
    )
    def get(self, request: Request, slug: str, season_id: int) -> Response:
        return Response(ManageSeasonSerializer(self.get_row(_seasons(), season_id)).data)

    @extend_schema(
        operation_id="manage_seasons_update",
        tags=TAGS,
        parameters=[SLUG],
        request=ManageSeasonSerializer,
        responses={200: ManageSeasonSerializer},
    )
    def patch(self, request: Request, slug: str, season_id: int) -> Response:
        season = self.get_row(Season.objects.all(), season_id)
        fields, branch, spans = _season_input(ManageSeasonSerializer, request, partial=True)
        seasons.season_save(
            business=self.business,
            season=season,
            fields=fields,
            branch=branch.get("branch"),
            keep_branch="branch" not in branch,
            hours=spans,
        )
        return Response(ManageSeasonSerializer(self.get_row(_seasons(), season_id)).data)

    @extend_schema(operation_id="manage_seasons_destroy", tags=TAGS, parameters=[SLUG], responses={204: None})
    def delete(self, request: Request, slug: str, season_id: int) -> Response:
        seasons.season_delete(business=self.business, season=self.get_row(Season.objects.all(), season_id))
        return Response(status=204)


class RamadanProposalApi(ManageApi):
    @extend_schema(
        operation_id="manage_seasons_ramadan_proposal",
        tags=TAGS,
        parameters=[SLUG],
        description="The coming Ramadan (in progress or next, on the business's local today) from the Umm al-Qura "
        "calendar, with typical hours: 13:00-17:00 and 21:00-23:59, Saturday to Thursday, Friday off. Accept it "
        "as is or edited with `POST seasons/ramadan`.",
        responses={200: RamadanProposalSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(RamadanProposalSerializer(seasons.ramadan_proposal(business=self.business)).data)


class RamadanAcceptApi(ManageApi):
    @extend_schema(
        operation_id="manage_seasons_ramadan_accept",
        tags=TAGS,
        parameters=[SLUG],
        description="Make the Ramadan proposal a season for all the staff (general spans), with anything sent "
        "replacing the proposal's. Accepted already: 400 `season_overlaps`.",
        request=RamadanAcceptSerializer,
        responses={201: ManageSeasonSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        fields, branch, spans = _season_input(RamadanAcceptSerializer, request)
        season = seasons.ramadan_accept(business=self.business, fields=fields, branch=branch.get("branch"), hours=spans)
        return Response(ManageSeasonSerializer(self.get_row(_seasons(), season.pk)).data, status=201)
