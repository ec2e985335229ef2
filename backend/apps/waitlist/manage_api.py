"""The manager API, waitlist half: who waits for what at the business, in line order (`ManageApi` puts the handler
in the business's scope: another business's entries are never listed)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.manage_api import MANAGERS, SLUG, TAGS, ManageApi
from apps.waitlist.api import EntrySerializer
from apps.waitlist.models import WaitlistEntry
from apps.waitlist.selectors import entry_list_for_business


@extend_schema_serializer(component_name="ManageWaitlistEntry")
class ManageEntrySerializer(EntrySerializer):
    customer_name = serializers.CharField(source="customer.name")
    customer_phone = serializers.CharField(source="customer.phone", help_text="E.164.")


class ManageWaitlistListApi(ManageApi):
    read_roles = MANAGERS

    @extend_schema_serializer(component_name="ManageWaitlistFilter")
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=WaitlistEntry.Status.choices, required=False)

    @extend_schema(
        operation_id="manage_waitlist_list",
        tags=TAGS,
        parameters=[SLUG, OpenApiParameter("status", OpenApiTypes.STR, enum=WaitlistEntry.Status.values)],
        responses={200: ManageEntrySerializer(many=True)},
        description="The business's waitlist in line order (first come first), optionally of one status.",
    )
    def get(self, request: Request, slug: str) -> Response:
        f = self.FilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        qs = entry_list_for_business(business_id=self.business.pk, status=f.validated_data.get("status"))
        return self.paginate(request, qs.select_related("business"), ManageEntrySerializer)
