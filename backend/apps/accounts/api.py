from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts import services
from apps.accounts.models import OtpChallenge, User
from apps.accounts.phone import PhoneField
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.core.throttling import AnonThrottle, UserThrottle


class UserSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "phone", "name", "email", "language", "role", "notify_sms", "notify_whatsapp", "notify_email"]
        read_only_fields = ["id", "phone", "role"]


class TokenInvalid(DomainError):
    code, status, message = "token_not_valid", 401, "The token is invalid or expired."


_ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=_ERROR, description=description)


def _device_token_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="The `device_token` of an earlier login of this phone on this device, when the app kept one. It "
        "keeps the device's own limits apart from those a stranger can spend for this phone.",
    )


class OtpRequestApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonThrottle]

    @extend_schema_serializer(component_name="OtpRequestInput")
    class InputSerializer(serializers.Serializer):
        phone = PhoneField()
        channel = serializers.ChoiceField(choices=OtpChallenge.Channel.choices, default=OtpChallenge.Channel.SMS)
        device_token = _device_token_field()

    @extend_schema_serializer(component_name="OtpRequestOutput")
    class OutputSerializer(serializers.Serializer):
        phone = serializers.CharField()
        channel = serializers.CharField()
        expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")
        resend_in = serializers.IntegerField(help_text="Seconds before another code may be requested.")

    @extend_schema(
        operation_id="auth_otp_request",
        request=InputSerializer,
        responses={
            202: OutputSerializer,
            400: _error(
                "`validation_error`, or `otp_country_not_allowed`: codes are sent only to phone numbers of the "
                "supported countries (`fields.phone`)."
            ),
            429: _error(
                "`otp_rate_limited` (cooldown or an hourly cap for this phone or client), `otp_locked` (too many wrong "
                "codes for this phone today: a code could not be checked) or `otp_sms_budget_exhausted` (the site's "
                "hourly budget of codes is spent); `throttled`. See the Retry-After header."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        challenge = services.otp_request(
            phone=s.validated_data["phone"],
            channel=s.validated_data["channel"],
            client_ip=client_ip(request),
            device_token=s.validated_data.get("device_token") or None,
        )
        data = {
            "phone": challenge.phone,
            "channel": challenge.channel,
            "expires_in": settings.OTP_TTL_SECONDS,
            "resend_in": settings.OTP_RESEND_COOLDOWN_SECONDS,
        }
        return Response(self.OutputSerializer(data).data, status=202)


class OtpVerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonThrottle]

    @extend_schema_serializer(component_name="OtpVerifyInput")
    class InputSerializer(serializers.Serializer):
        phone = PhoneField()
        code = serializers.RegexField(r"^\d{4,8}$", max_length=8, error_messages={"invalid": "Digits only."})
        device_token = _device_token_field()

    @extend_schema_serializer(component_name="OtpVerifyOutput")
    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()
        user = UserSerializer()
        created = serializers.BooleanField(help_text="True when this login created the account.")
        device_token = serializers.CharField(
            help_text="Keep it on this device and send it with later code requests and checks for this phone."
        )

    @extend_schema(
        operation_id="auth_otp_verify",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: _error("`validation_error`, `otp_invalid` (wrong or no code) or `otp_expired`."),
            429: _error(
                "`otp_attempts_exceeded` (the code is dead: request a new one), `otp_backoff` (too many wrong codes: "
                "wait Retry-After seconds) or `otp_locked` (the day's allowance of wrong codes is spent); `throttled`."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        login = services.otp_verify(
            phone=s.validated_data["phone"],
            code=s.validated_data["code"],
            client_ip=client_ip(request),
            device_token=s.validated_data.get("device_token") or None,
        )
        return Response(self.OutputSerializer(login).data)


class TokenRefreshApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonThrottle]

    @extend_schema_serializer(component_name="TokenRefreshInput")
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema_serializer(component_name="TokenRefreshOutput")
    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()

    @extend_schema(operation_id="auth_token_refresh", request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        refresh = TokenRefreshSerializer(data=s.validated_data)
        try:
            refresh.is_valid(raise_exception=True)
        except (TokenError, serializers.ValidationError) as exc:
            raise TokenInvalid() from exc
        except User.DoesNotExist as exc:
            raise TokenInvalid() from exc
        return Response(self.OutputSerializer(refresh.validated_data).data)


class LogoutApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonThrottle]

    @extend_schema_serializer(component_name="LogoutInput")
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(operation_id="auth_logout", request=InputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            RefreshToken(s.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise TokenInvalid() from exc
        return Response(status=204)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="MeUpdateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)
        language = serializers.ChoiceField(choices=User.Language.choices, required=False)
        notify_sms = serializers.BooleanField(required=False)
        notify_whatsapp = serializers.BooleanField(required=False)
        notify_email = serializers.BooleanField(required=False)

        def validate_email(self, value: str | None) -> str | None:
            if not value:
                return None
            value = value.strip().lower()
            user = self.context["user"]
            if User.objects.filter(email__iexact=value).exclude(pk=user.pk).exists():
                raise serializers.ValidationError("This email is already used by another account.")
            return value

    @extend_schema(operation_id="me_retrieve", responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(operation_id="me_update", request=InputSerializer, responses={200: UserSerializer})
    def patch(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data, context={"user": request.user})
        s.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **s.validated_data)
        return Response(UserSerializer(user).data)

    @extend_schema_serializer(component_name="AccountDeleteInput")
    class DeleteSerializer(serializers.Serializer):
        code = serializers.RegexField(r"^\d{4,8}$", max_length=8, error_messages={"invalid": "Digits only."})

    @extend_schema(
        operation_id="me_delete",
        request=DeleteSerializer,
        description="Delete the account, confirmed with a fresh deletion code (`POST /api/v1/me/delete/code` sends "
        "it; a login code does not confirm a deletion). Future bookings are cancelled as the business would cancel them (money returned in full), tokens "
        "and sessions revoked, the person's identity erased from every row; bookings, payments and invoices stay "
        "with an anonymous customer (docs/privacy.md). The phone can sign up again as a new person.",
        responses={
            204: None,
            400: _error(
                "`validation_error`, `otp_invalid` (wrong code, no deletion code, or a login code) or `otp_expired`: "
                "nothing changed."
            ),
            409: _error(
                "`holds_business_role` (`businesses`: the slugs where the person works; the business removes them "
                "first) or `holds_platform_role`."
            ),
            429: _error("`otp_attempts_exceeded`, `otp_backoff`, `otp_locked`; `throttled`."),
        },
    )
    def delete(self, request: Request) -> Response:
        s = self.DeleteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.account_delete(user=request.user, code=s.validated_data["code"], client_ip=client_ip(request))
        return Response(status=204)


class ExportThrottle(UserThrottle):
    """Downloads of one account's data (scope `personal_data_export`, MAWID_THROTTLE_EXPORT)."""

    scope = "personal_data_export"


class MeExportApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [ExportThrottle, UserThrottle]

    @extend_schema(
        operation_id="me_export",
        description="Everything Mawid holds about the signed-in person, as a JSON file (a download): the profile and "
        "consents, bookings at every business with their history, payments and refunds (no card data: the last "
        "four digits at most), invoices and credit notes (numbers and links), the messages sent to them, "
        "business roles, login codes. Nothing of anyone else. `format`, `version` and `generated_at` head it.",
        responses={
            200: OpenApiResponse(response={"type": "object", "additionalProperties": True}, description="The data."),
            429: _error("`throttled`: a few downloads an hour."),
        },
    )
    def get(self, request: Request) -> Response:
        document = services.personal_data_document(user=request.user)
        response = Response(document)
        stamp = document["generated_at"][:10]
        response["Content-Disposition"] = f'attachment; filename="mawid-my-data-{stamp}.json"'
        response["Cache-Control"] = "no-store"
        return response


class MeDeleteCodeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_delete_code",
        request=None,
        description="Send a deletion code to the account's phone, to confirm `DELETE /api/v1/me`: it confirms only "
        "that (it does not log in), and the login limits apply (they count it with the login codes). Refused at "
        "once when the account may not be deleted now.",
        responses={
            202: OtpRequestApi.OutputSerializer,
            409: _error("`holds_business_role` (`businesses`) or `holds_platform_role`."),
            429: _error("`otp_rate_limited`, `otp_locked`, `otp_sms_budget_exhausted`; `throttled`."),
        },
    )
    def post(self, request: Request) -> Response:
        challenge = services.account_delete_code_request(user=request.user, client_ip=client_ip(request))
        data = {
            "phone": challenge.phone,
            "channel": challenge.channel,
            "expires_in": settings.OTP_TTL_SECONDS,
            "resend_in": settings.OTP_RESEND_COOLDOWN_SECONDS,
        }
        return Response(OtpRequestApi.OutputSerializer(data).data, status=202)
