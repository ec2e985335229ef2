"""The customer's waitlist: join, list, leave; an offer by its claim token: see it, claim it, decline it.

`/api/v1/waitlist...` (apps/waitlist/urls.py). Every route needs a signed-in customer; an offer is found by its
token only for the customer it was made to (404 for anyone else)."""

from __future__ import annotations

from typing import Any, cast

from django.urls import reverse
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.bookings.api import OffsetDateTimeField
from apps.bookings.models import Booking
from apps.catalog.selectors import service_get_active
from apps.core.fields import BoundedDateField
from apps.waitlist import selectors, services
from apps.waitlist.models import WaitlistEntry, WaitlistOffer

TAGS = ["waitlist"]
GONE = OpenApiResponse(
    description="`offer_gone`: the claim window ended, or the offer was passed on, declined or withdrawn."
)


@extend_schema_serializer(component_name="WaitlistOffer")
class OfferSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WaitlistOffer.Status.choices)
    business = serializers.CharField(source="business.slug", help_text="The business's slug.")
    service = serializers.IntegerField(source="entry.service_id")
    service_name = serializers.SerializerMethodField()
    staff = serializers.IntegerField(source="staff_id")
    staff_name = serializers.CharField(source="staff.display_name")
    start = OffsetDateTimeField()
    end = OffsetDateTimeField()
    expires_at = OffsetDateTimeField(help_text="Claim before this; afterwards the time goes to the next in line.")
    booking = serializers.IntegerField(source="hold_id", help_text="The booking that holds the time.")
    payment_required = serializers.SerializerMethodField(help_text="Claiming leads to paying online.")

    def get_service_name(self, offer: WaitlistOffer) -> str:
        service = offer.entry.service
        return service.name_ar if get_language() == "ar" and service.name_ar else service.name_en

    def get_payment_required(self, offer: WaitlistOffer) -> bool:
        return offer.hold.online_amount > 0


@extend_schema_serializer(component_name="WaitlistEntry")
class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    business = serializers.CharField(source="business.slug")
    service = serializers.IntegerField(source="service_id")
    staff = serializers.IntegerField(source="staff_id", allow_null=True, help_text="Null: anyone.")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    time_from = serializers.TimeField(format="%H:%M")
    time_to = serializers.TimeField(format="%H:%M", help_text="The latest start, local time.")
    status = serializers.ChoiceField(choices=WaitlistEntry.Status.choices)
    created_at = serializers.DateTimeField()


def _user(request: Request) -> User:
    return cast(User, request.user)


class WaitlistListJoinApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="WaitlistJoinInput")
    class InputSerializer(serializers.Serializer):
        service = serializers.IntegerField(min_value=1)
        staff = serializers.IntegerField(min_value=1, allow_null=True, required=False, default=None)
        date_from = BoundedDateField()
        date_to = BoundedDateField()
        time_from = serializers.TimeField(help_text="The earliest start, local time (HH:MM).")
        time_to = serializers.TimeField(help_text="The latest start, local time (HH:MM).")

    @extend_schema(operation_id="waitlist_list", tags=TAGS, responses={200: EntrySerializer(many=True)})
    def get(self, request: Request) -> Response:
        entries = selectors.entry_list_for_customer(customer_id=_user(request).pk)[:100]
        return Response(EntrySerializer(entries, many=True).data)

    @extend_schema(operation_id="waitlist_join", tags=TAGS, request=InputSerializer, responses={201: EntrySerializer})
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        entry = services.waitlist_join(
            customer=_user(request),
            service=service_get_active(data["service"]),
            staff_id=data["staff"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            time_from=data["time_from"],
            time_to=data["time_to"],
        )
        entry = selectors.entry_get_for_customer(entry_id=entry.pk, customer_id=_user(request).pk)
        return Response(EntrySerializer(entry).data, status=201)


class WaitlistLeaveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="waitlist_leave", tags=TAGS, responses={200: EntrySerializer})
    def delete(self, request: Request, entry_id: int) -> Response:
        services.waitlist_leave(entry_id=entry_id, customer=_user(request))
        entry = selectors.entry_get_for_customer(entry_id=entry_id, customer_id=_user(request).pk)
        return Response(EntrySerializer(entry).data)


class WaitlistOfferDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="waitlist_offer", tags=TAGS, responses={200: OfferSerializer})
    def get(self, request: Request, token: str) -> Response:
        offer = selectors.offer_get_for_customer(token=token, customer_id=_user(request).pk)
        return Response(OfferSerializer(offer).data)


@extend_schema_serializer(component_name="WaitlistClaim")
class ClaimSerializer(serializers.Serializer):
    offer = OfferSerializer()
    booking_status = serializers.ChoiceField(choices=Booking.Status.choices)
    pay_url = serializers.CharField(
        allow_null=True, help_text="Where to pay for the held booking (POST), when the service is paid online."
    )


class WaitlistOfferClaimApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="waitlist_offer_claim", tags=TAGS, request=None, responses={200: ClaimSerializer, 410: GONE}
    )
    def post(self, request: Request, token: str) -> Response:
        offer, hold = services.waitlist_offer_claim(token=token, customer=_user(request))
        offer = selectors.offer_get_for_customer(token=token, customer_id=_user(request).pk)
        pay_url = reverse("booking-pay", args=[hold.pk]) if hold.status == Booking.Status.PENDING_PAYMENT else None
        data: dict[str, Any] = {"offer": offer, "booking_status": hold.status, "pay_url": pay_url}
        return Response(ClaimSerializer(data).data)


class WaitlistOfferDeclineApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="waitlist_offer_decline", tags=TAGS, request=None, responses={200: OfferSerializer, 410: GONE}
    )
    def post(self, request: Request, token: str) -> Response:
        services.waitlist_offer_decline(token=token, customer=_user(request))
        offer = selectors.offer_get_for_customer(token=token, customer_id=_user(request).pk)
        return Response(OfferSerializer(offer).data)
