"""Every error leaves as JSON in the documented shape, never HTML, never a bare 500."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

pytestmark = pytest.mark.django_db


class _Boom(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals")


urlpatterns = [path("api/v1/boom", _Boom.as_view())]


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body


def test_unknown_api_path_is_a_json_404(api_client):
    assert_error(api_client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_json_405(api_client):
    assert_error(api_client.get("/api/v1/auth/otp/request"), 405, "method_not_allowed")


def test_malformed_json_is_a_400(api_client):
    response = api_client.post("/api/v1/auth/otp/request", data="{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_only_json_is_accepted(api_client):
    response = api_client.post("/api/v1/auth/otp/request", data="phone=0501234567",
                               content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_validation_errors_name_the_fields(api_client):
    body = assert_error(api_client.post("/api/v1/auth/otp/verify", {}, format="json"), 400, "validation_error")
    assert set(body["error"]["fields"]) == {"phone", "code"}


def test_oversized_body_is_a_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api_client.post("/api/v1/auth/otp/request", data='{"phone": "' + "1" * 5000 + '"}',
                               content_type="application/json")
    assert_error(response, 413, "request_too_large")


@override_settings(ROOT_URLCONF=__name__)
def test_unexpected_exception_is_logged_and_answered_as_json_500_without_internals(caplog):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/boom")
    body = assert_error(response, 500, "server_error")
    assert "secret internals" not in str(body)
    assert "unhandled_exception" in caplog.text


def test_every_response_carries_a_request_id(api_client):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(api_client.get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32


def test_healthz_checks_database_and_job_queue(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["job_queue"] == "ok"


def test_openapi_schema_documents_the_error_shape(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert "Error" in schema["components"]["schemas"]
    operation = schema["paths"]["/api/v1/auth/otp/request"]["post"]
    assert {"400", "429"} <= set(operation["responses"])
    assert "otp_rate_limited" in schema["info"]["description"]


def test_api_docs_are_served_without_a_cdn(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn.jsdelivr" not in html
