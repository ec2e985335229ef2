"""Payments API (shared/API.md, "Payments"): thin views that parse, call one service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.selectors import user_manages
from apps.core.errors import PermissionDenied
from apps.core.idempotency import idempotent
from apps.core.money import Money, MoneySerializer, VatLineSerializer, vat_line
from apps.core.parsers import JSONParser
from apps.payments import services
from apps.payments.models import Payment, Refund
from apps.payments.selectors import payment_get_for_user

# --- representations ------------------------------------------------------------------------------------------


@extend_schema_field(MoneySerializer)
class MoneyOutField(serializers.Field):
    """An amount column of a payment (or refund) as money: `{"amount": 15000, "currency": "SAR"}`."""

    def __init__(self, amount_attr: str, **kwargs: Any) -> None:
        self.amount_attr = amount_attr
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, obj: Payment | Refund) -> dict:
        currency = obj.currency if isinstance(obj, Payment) else obj.payment.currency
        return Money(getattr(obj, self.amount_attr), currency).as_dict()


@extend_schema_field(VatLineSerializer(allow_null=True))
class VatOutField(serializers.Field):
    """The amount of a payment (or refund) as its tax document states it, where the business is VAT-registered:
    `{"rate_bps": 1500, "net": {...}, "vat": {...}, "gross": {...}}`; null where no VAT applies."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, obj: Payment | Refund) -> dict | None:
        payment = obj if isinstance(obj, Payment) else obj.payment
        net, vat = (obj.amount_net, obj.amount_vat) if isinstance(obj, Payment) else (obj.net, obj.vat)
        return vat_line(net=net, vat=vat, rate_bps=payment.booking.vat_rate_bps, currency=payment.currency)


@extend_schema_serializer(component_name="PaymentClientParameters")
class ClientParametersSerializer(serializers.Serializer):
    publishable_key = serializers.CharField()
    given_id = serializers.CharField(help_text="Pass to Moyasar as `given_id` (becomes the payment id).")
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    description = serializers.CharField()
    callback_url = serializers.CharField()
    metadata = serializers.DictField(child=serializers.CharField(), help_text="Pass unchanged.")
    manual = serializers.BooleanField(help_text="Authorize only; the capture happens later.")


@extend_schema_serializer(component_name="Refund")
class RefundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Refund.Kind.choices)
    status = serializers.ChoiceField(choices=Refund.Status.choices)
    amount = MoneyOutField("amount")
    amount_vat = VatOutField(help_text="The amount as its credit note states it; null without VAT.")
    reason = serializers.CharField()
    failure_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="Payment")
class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    booking = serializers.IntegerField(source="booking_id")
    status = serializers.ChoiceField(choices=Payment.Status.choices)
    flow = serializers.ChoiceField(choices=Payment.Flow.choices)
    amount = MoneyOutField("amount")
    amount_vat = VatOutField(
        help_text="The amount as the tax invoice states it (net, VAT, gross = `amount`); null without VAT."
    )
    authorized = MoneyOutField("authorized_amount")
    captured = MoneyOutField("captured_amount")
    refunded = MoneyOutField("refunded_amount")
    purpose = serializers.ChoiceField(
        choices=Payment.Purpose.choices, help_text="`full`: the whole price; `deposit`: the rest is paid at the venue."
    )
    cancellation_fee = MoneyOutField(
        "cancellation_fee", help_text="Kept of it after the customer cancelled after the cut-off (0 otherwise)."
    )
    transaction_url = serializers.SerializerMethodField(
        help_text="While `initiated`: open it for 3-D Secure; Moyasar then sends the browser to the callback URL."
    )
    message = serializers.CharField(help_text="Moyasar's message (the decline reason of a failed payment).")
    card = serializers.CharField(help_text="Brand and masked number.")
    method = serializers.ChoiceField(
        choices=Payment.Method.choices,
        help_text="How it is paid: `card` (a Moyasar card token), `applepay`, `stcpay`, or `form` (Moyasar's form or "
        "SDK, whatever the customer chose there).",
    )
    card_scheme = serializers.ChoiceField(
        choices=Payment.CardScheme.choices,
        help_text="The card's scheme once Moyasar reports it (`mada`, `visa`, `mastercard`, `amex`); empty for STC "
        "Pay or while unknown.",
    )
    otp_required = serializers.SerializerMethodField(
        help_text="STC Pay: true while the payment waits for the code the customer received by SMS; send it with "
        "`POST /api/v1/payments/{id}/stcpay-otp`."
    )
    refunds = RefundSerializer(many=True, read_only=True)
    client = serializers.SerializerMethodField(
        help_text="Only while `awaiting_client`: the parameters for Moyasar's form or SDK."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_transaction_url(self, payment: Payment) -> str | None:
        if payment.method == Payment.Method.STCPAY:
            return None  # STC Pay's URL takes the OTP, which goes through `stcpay-otp`; nothing to open
        return payment.transaction_url or None

    def get_otp_required(self, payment: Payment) -> bool:
        return (
            payment.method == Payment.Method.STCPAY
            and payment.status == Payment.Status.INITIATED
            and bool(payment.transaction_url)
        )

    @extend_schema_field(ClientParametersSerializer(allow_null=True))
    def get_client(self, payment: Payment) -> dict | None:
        if payment.status != Payment.Status.AWAITING_CLIENT:
            return None
        return ClientParametersSerializer(services.client_parameters(payment)).data


def _render(payment: Payment, status: int = 200) -> Response:
    return Response(PaymentSerializer(payment).data, status=status)


# --- customers ------------------------------------------------------------------------------------------------


_SOURCE_TYPES = {"token": Payment.Method.CARD, "applepay": Payment.Method.APPLEPAY, "stcpay": Payment.Method.STCPAY}


class BookingPayApi(APIView):
    @extend_schema_serializer(component_name="PaymentSourceInput")
    class SourceSerializer(serializers.Serializer):
        type = serializers.ChoiceField(
            choices=list(_SOURCE_TYPES),
            help_text="`token`: a Moyasar card token (mada, Visa, Mastercard; 3-D Secure); `applepay`: an Apple Pay "
            "payment token; `stcpay`: an STC Pay mobile number (then the OTP step).",
        )
        token = serializers.CharField(
            max_length=20000,
            required=False,
            help_text="`token`: the Moyasar token (`token_…`); `applepay`: the wallet's payment token (as Apple "
            "Pay hands it over, JSON as a string).",
        )
        mobile = serializers.CharField(
            max_length=20,
            required=False,
            help_text="`stcpay` only: the Saudi mobile number registered with STC Pay, `05XXXXXXXX` (`+9665XXXXXXXX` "
            "is accepted).",
        )

        def validate(self, attrs: dict) -> dict:
            kind = attrs["type"]
            if kind == "stcpay":
                mobile = services.normalize_saudi_mobile(attrs.get("mobile", ""))
                if mobile is None:
                    raise serializers.ValidationError({"mobile": [_("Enter a Saudi mobile number: 05XXXXXXXX.")]})
                return {"type": kind, "mobile": mobile}
            token = (attrs.get("token") or "").strip()
            if not token:
                raise serializers.ValidationError({"token": [_("This field is required.")]})
            if kind == "token" and len(token) > 200:
                raise serializers.ValidationError({"token": [_("A Moyasar card token is at most 200 characters.")]})
            return {"type": kind, "token": token}

    @extend_schema_serializer(component_name="BookingPayInput")
    class InputSerializer(serializers.Serializer):
        source = serializers.JSONField(
            required=False,
            help_text='One of `{"type": "token", "token": "token_..."}` (a Moyasar card token made with the '
            'publishable key; mada, Visa, Mastercard, with 3-D Secure), `{"type": "applepay", "token": "<Apple Pay '
            'payment token>"}` (authorize only, like cards), or `{"type": "stcpay", "mobile": "05XXXXXXXX"}` (the '
            "answer is `initiated` with `otp_required`: send the SMS code to `POST /api/v1/payments/{id}/stcpay-otp`; "
            "STC Pay is charged at once, not authorized). Leave it out to pay with Moyasar's form or SDK (the answer "
            "holds their parameters).",
        )

        def validate_source(self, value: Any) -> dict:
            source = BookingPayApi.SourceSerializer(data=value)
            source.is_valid(raise_exception=True)
            return source.validated_data

    @extend_schema(
        operation_id="bookings_pay",
        request=InputSerializer,
        responses={
            201: OpenApiResponse(
                PaymentSerializer,
                description="With a source: Moyasar created the payment. Card token: open `transaction_url` (3-D "
                "Secure) when present. Apple Pay: `authorized` or `failed` at once. STC Pay: `initiated` with "
                "`otp_required` (send the SMS code to `POST /api/v1/payments/{id}/stcpay-otp`), or `failed`. "
                "Without a source: `awaiting_client`, with the parameters for Moyasar's form or SDK in `client`.",
            ),
            202: OpenApiResponse(
                PaymentSerializer,
                description="Moyasar did not answer in time (the server waits a few seconds at most): the payment "
                "is `initiated` with no `transaction_url` yet, and the server keeps asking Moyasar for it (by its "
                "`given_id`). Poll `GET /api/v1/payments/{id}` every 2 seconds or so: open `transaction_url` once "
                "it is there, or stop at `authorized` (paid), `failed` or `abandoned` (Moyasar never got it: pay "
                "again). Do not pay again while it is `initiated`; if you do, the same attempt is resumed.",
            ),
        },
        description="Pay for a booking waiting for payment. The answer is 201, or 202 when Moyasar is slow (see "
        "202). 503 `provider_unavailable`: Moyasar certainly did not create the payment; try again after "
        "`Retry-After`.",
    )
    @idempotent
    def post(self, request: Request, booking_id: int) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        source = s.validated_data.get("source")
        payment = services.payment_start(
            user=request.user,
            booking_id=booking_id,
            source=services.PaymentSource(
                method=_SOURCE_TYPES[source["type"]], token=source.get("token", ""), mobile=source.get("mobile", "")
            )
            if source
            else None,
        )
        return _render(payment, status=202 if payment.create_outcome_unknown else 201)


class PaymentStcPayOtpApi(APIView):
    @extend_schema_serializer(component_name="PaymentStcPayOtpInput")
    class InputSerializer(serializers.Serializer):
        otp = serializers.RegexField(
            r"^\d{4,8}$",
            help_text="The code STC Pay sent to the customer by SMS (digits).",
            error_messages={"invalid": _("Enter the code from the SMS (digits only).")},
        )

    @extend_schema(
        operation_id="payments_stcpay_otp",
        request=InputSerializer,
        responses={
            200: PaymentSerializer,
            402: OpenApiResponse(
                {"$ref": "#/components/schemas/Error"},
                description="STC Pay refused the payment (`stcpay_insufficient_balance`, `stcpay_declined`); it has "
                "failed, pay again.",
            ),
        },
        description="STC Pay, step 2: the customer's SMS code for an STC Pay payment that is `initiated` with "
        "`otp_required`. 200: paid (`captured`: STC Pay is charged at once) and the booking confirmed. STC Pay judges "
        "a code once: a wrong code is 400 `stcpay_otp_invalid`, an empty wallet 402 `stcpay_insufficient_balance`, "
        "another refusal 402 `stcpay_declined` -- the payment has then failed and the customer pays again (`POST "
        "/bookings/ID/pay`, a new code). 409 `payment_not_awaiting_otp`: not an STC Pay payment waiting for a code. "
        "503 `provider_unavailable`: Moyasar did not answer and the payment still waits; send the code again.",
    )
    @idempotent
    def post(self, request: Request, payment_id: int) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        payment = services.payment_stcpay_otp(user=request.user, payment_id=payment_id, otp=s.validated_data["otp"])
        return _render(payment)


class PaymentConfigApi(APIView):
    @extend_schema_serializer(component_name="PaymentConfig")
    class OutputSerializer(serializers.Serializer):
        publishable_key = serializers.CharField()
        callback_url = serializers.CharField()
        currency = serializers.CharField()
        live = serializers.BooleanField()

    @extend_schema(operation_id="payments_config", responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            self.OutputSerializer(
                {
                    "publishable_key": settings.MOYASAR_PUBLISHABLE_KEY,
                    "callback_url": settings.PAYMENTS_CALLBACK_URL,
                    "currency": "SAR",
                    "live": settings.MOYASAR_LIVE,
                }
            ).data
        )


class PaymentDetailApi(APIView):
    @extend_schema(operation_id="payments_retrieve", responses={200: PaymentSerializer})
    def get(self, request: Request, payment_id: int) -> Response:
        return _render(payment_get_for_user(user=request.user, payment_id=payment_id))


# --- managers -------------------------------------------------------------------------------------------------


def _manager_payment(request: Request, payment_id: int) -> Payment:
    payment = payment_get_for_user(user=request.user, payment_id=payment_id)
    if not user_manages(request.user, payment.business_id):
        raise PermissionDenied()
    return payment


class _ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class PaymentCaptureApi(APIView):
    @extend_schema_serializer(component_name="PaymentCaptureInput")
    class InputSerializer(_ReasonSerializer):
        pass

    @extend_schema(operation_id="payments_capture", request=InputSerializer, responses={202: PaymentSerializer})
    def post(self, request: Request, payment_id: int) -> Response:
        payment = _manager_payment(request, payment_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        payment = services.payment_request_capture(
            payment_id=payment.pk, actor=request.user, source="api", **s.validated_data
        )
        return _render(payment, status=202)


class PaymentVoidApi(APIView):
    @extend_schema_serializer(component_name="PaymentVoidInput")
    class InputSerializer(_ReasonSerializer):
        pass

    @extend_schema(operation_id="payments_void", request=InputSerializer, responses={202: PaymentSerializer})
    def post(self, request: Request, payment_id: int) -> Response:
        payment = _manager_payment(request, payment_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        payment = services.payment_request_void(
            payment_id=payment.pk, actor=request.user, source="api", **s.validated_data
        )
        return _render(payment, status=202)


class PaymentRefundApi(APIView):
    @extend_schema_serializer(component_name="PaymentRefundInput")
    class InputSerializer(_ReasonSerializer):
        amount = serializers.IntegerField(
            min_value=1, required=False, help_text="Minor units; leave out to refund everything left."
        )

    @extend_schema(operation_id="payments_refund", request=InputSerializer, responses={202: RefundSerializer})
    @idempotent
    def post(self, request: Request, payment_id: int) -> Response:
        payment = _manager_payment(request, payment_id)
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        refund = services.payment_refund(payment_id=payment.pk, actor=request.user, source="api", **s.validated_data)
        return Response(RefundSerializer(refund).data, status=202)


# --- Moyasar --------------------------------------------------------------------------------------------------


class MoyasarWebhookApi(APIView):
    """Moyasar's event (no JWT: authenticated by the shared `secret_token` in the body)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    # Moyasar delivers from a few addresses; the anonymous per-IP limit would hold back a busy account's events.
    # A wrong secret is refused before any database work.
    throttle_classes: list = []

    @extend_schema_serializer(component_name="MoyasarWebhookReceipt")
    class OutputSerializer(serializers.Serializer):
        received = serializers.BooleanField()
        duplicate = serializers.BooleanField(help_text="This event id was already recorded; nothing changed.")

    @extend_schema(
        operation_id="webhooks_moyasar",
        request=OpenApiTypes.OBJECT,
        responses={200: OutputSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        _event, created = services.webhook_receive(payload=request.data)
        return Response({"received": True, "duplicate": not created})
