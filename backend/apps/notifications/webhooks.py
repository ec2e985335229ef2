"""`GET/POST /api/v1/webhooks/whatsapp`: Meta's verification handshake and its signed event POSTs.

The POST is authenticated by `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`,
compared in constant time over `request.body` before anything is parsed; a missing or wrong signature gets 401
with a machine-readable body and nothing is stored. A verified POST is stored (once per item) and answered 200 at
once: the work happens in the `whatsapp_event_process` job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import DomainError, ValidationFailed, register_error
from apps.notifications.services.whatsapp import whatsapp_webhook_receive

logger = logging.getLogger("mawid.notifications")


@register_error
class WebhookSignatureInvalid(DomainError):
    code, status, message = "webhook_signature_invalid", 401, "The X-Hub-Signature-256 header is missing or wrong."


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(header) and hmac.compare_digest(expected.encode(), header.strip().lower().encode())


class WhatsAppWebhookApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # Meta delivers from changing addresses; a bad signature is refused before any work

    @extend_schema_serializer(component_name="WhatsAppWebhookReceipt")
    class OutputSerializer(serializers.Serializer):
        received = serializers.IntegerField(help_text="New items stored (0 for a replay).")

    @extend_schema(
        operation_id="webhooks_whatsapp_verify",
        parameters=[
            OpenApiParameter("hub.mode", str, required=True),
            OpenApiParameter("hub.verify_token", str, required=True),
            OpenApiParameter("hub.challenge", str, required=True),
        ],
        responses={200: OpenApiTypes.STR},
        auth=[],
    )
    def get(self, request: Request) -> HttpResponse:
        mode = request.query_params.get("hub.mode", "")
        token = request.query_params.get("hub.verify_token", "")
        challenge = request.query_params.get("hub.challenge", "")
        if mode == "subscribe" and hmac.compare_digest(token.encode(), settings.WHATSAPP_VERIFY_TOKEN.encode()):
            return HttpResponse(challenge, content_type="text/plain")
        logger.warning("whatsapp_verify_refused")
        return HttpResponse("forbidden", status=403, content_type="text/plain")

    @extend_schema(
        operation_id="webhooks_whatsapp", request=OpenApiTypes.OBJECT, responses={200: OutputSerializer}, auth=[]
    )
    def post(self, request: Request) -> Response:
        body = request.body  # the raw bytes, before any parsing
        if not signature_ok(body, request.headers.get("X-Hub-Signature-256", ""), settings.WHATSAPP_APP_SECRET):
            logger.warning("whatsapp_webhook_bad_signature")
            raise WebhookSignatureInvalid()
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed("The body is not JSON.") from exc
        if not isinstance(payload, dict):
            raise ValidationFailed("The body is not a JSON object.")
        return Response({"received": len(whatsapp_webhook_receive(payload=payload))})
