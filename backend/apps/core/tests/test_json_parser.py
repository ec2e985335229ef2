"""Deeply nested JSON is a 400 `parse_error` on every endpoint, logged-in or not, never a 500 (the body fits well
under the size limit, and DRF's own parser lets `RecursionError` out of `json.loads`)."""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.exceptions import ParseError
from rest_framework.views import APIView

from apps.core.parsers import MAX_JSON_DEPTH, JSONParser, json_depth_exceeds, parse_json

pytestmark = pytest.mark.django_db

# 20,000 levels, 40 kB: far past Python's recursion limit, far under DATA_UPLOAD_MAX_MEMORY_SIZE (64 kB).
DEEP = "[" * 20_000 + "]" * 20_000
UNAUTHENTICATED = ["/api/v1/auth/otp/request", "/api/v1/auth/otp/verify", "/api/v1/auth/token/refresh",
                   "/api/v1/webhooks/moyasar"]


def nested(levels: int) -> str:
    """`levels` lists nested inside an object: {"a": [[...[1]...]]}, `levels` + 1 deep in all."""
    return '{"a": ' + "[" * levels + "1" + "]" * levels + "}"


def assert_parse_error(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "parse_error"
    assert "nested" in response.json()["error"]["message"]


@pytest.fixture
def no_propagation(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False  # a crash comes back as the 500 a client would see


@pytest.mark.parametrize("url", UNAUTHENTICATED)
def test_a_deeply_nested_body_is_a_400_on_the_unauthenticated_endpoints(api_client, no_propagation, url):
    assert len(DEEP) < 64 * 1024

    assert_parse_error(api_client.post(url, DEEP, content_type="application/json"))


def test_a_deeply_nested_body_is_a_400_for_a_logged_in_customer(auth_client, customer, no_propagation):
    client = auth_client(customer)

    assert_parse_error(client.post("/api/v1/bookings", DEEP, content_type="application/json"))
    assert_parse_error(client.patch("/api/v1/me", DEEP, content_type="application/json"))


@pytest.mark.parametrize("url", ["/api/v1/auth/otp/request", "/api/v1/webhooks/moyasar"])
def test_json_that_parses_but_nests_too_deep_is_refused_before_any_view_code(api_client, no_propagation, url):
    # Parses fine (a few hundred levels), but nothing we accept is that deep, and later code could still recurse.
    assert_parse_error(api_client.post(url, nested(MAX_JSON_DEPTH), content_type="application/json"))


def test_ordinary_nesting_still_parses(api_client):
    # One level under the limit gets through the parser (and on to validation).
    response = api_client.post("/api/v1/auth/otp/request", nested(MAX_JSON_DEPTH - 1), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_depth_is_measured_without_recursion():
    deep = json.loads("[" * 900 + "]" * 900)
    for _ in range(50_000):  # far deeper than any recursive walk could go
        deep = [deep]

    assert json_depth_exceeds(deep, 32)
    assert not json_depth_exceeds({"a": [{"b": [1, 2, {"c": None}]}]}, 5)
    assert json_depth_exceeds({"a": [{"b": [1, 2, {"c": []}]}]}, 5)
    assert not json_depth_exceeds("text", 0)


def _api_views(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            cls = getattr(entry.callback, "cls", None)
            if isinstance(cls, type) and issubclass(cls, APIView):
                yield prefix + str(entry.pattern), cls


def test_every_api_view_parses_json_with_our_parser():
    # A view that names its parsers (the Moyasar webhook does) must not fall back to DRF's own JSONParser.
    views = dict(_api_views())
    assert "api/v1/webhooks/moyasar" in views
    for route, cls in views.items():
        for parser in cls().get_parsers():
            assert isinstance(parser, JSONParser), (route, type(parser))


@pytest.mark.parametrize(
    "raw", [DEEP, DEEP.encode(), nested(MAX_JSON_DEPTH), "{not json", b"\xff\xfe", '{"a": NaN}', "[Infinity]"]
)
def test_parse_json_applies_the_same_rules_to_a_body_read_by_hand(raw):
    with pytest.raises(ParseError):
        parse_json(raw)


def test_parse_json_returns_what_json_loads_would():
    assert parse_json(b'{"id": "evt_1", "data": {"id": "pay_1", "amount": 15000}}') == {
        "id": "evt_1",
        "data": {"id": "pay_1", "amount": 15000},
    }
    assert parse_json(nested(MAX_JSON_DEPTH - 1)) == json.loads(nested(MAX_JSON_DEPTH - 1))
