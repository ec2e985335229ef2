# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""Payments tests run over real HTTP against the Moyasar fake (no mocks): a business in Asia/Riyadh whose
bookings wait for payment (10-minute hold, 24-hour cancellation cut-off), a staff member working 09:00-17:00,
settings pointing the Moyasar client at the fake, and helpers that act like the mobile app and the payer."""

from __future__ import annotations

import time as time_module
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User
from apps.bookings.tests.fixtures import customer, manager, other_customer  # noqa: F401
from apps.payments.models import Payment
from apps.payments.providers.fake import MoyasarFake
from apps.payments.tests.fakes import moyasar_client, moyasar_fake  # noqa: F401

RIYADH = ZoneInfo("Asia/Riyadh")
CALLBACK = "http://testserver/payments/return"
VISA_OK = "4111111111111111"
VISA_DECLINED = "4123120001090109"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def fake(moyasar_fake: MoyasarFake, settings) -> MoyasarFake:
    """The Moyasar fake, with the app's Moyasar settings pointed at it (short timeouts)."""
    settings.MOYASAR_BASE_URL = moyasar_fake.api_url
    settings.MOYASAR_SECRET_KEY = moyasar_fake.secret_key
    settings.MOYASAR_PUBLISHABLE_KEY = moyasar_fake.publishable_key
    settings.MOYASAR_WEBHOOK_SECRET = "fake-webhook-secret"
    settings.MOYASAR_LIVE = False
    settings.MOYASAR_CONNECT_TIMEOUT = 1.0
    settings.MOYASAR_READ_TIMEOUT = 1.0
    settings.MOYASAR_RETRY_BACKOFF_SECONDS = 0.01
    settings.PAYMENTS_CALLBACK_URL = CALLBACK
    settings.PAYMENTS_CAPTURE_IMMEDIATELY = False
    settings.PAYMENTS_CAPTURE_AFTER_DAYS = 6.0
    settings.PAYMENTS_LATE_CANCEL_FEE_PERCENT = 20
    settings.PAYMENTS_LATE_CANCEL_FEE_AMOUNT = 0
    return moyasar_fake


@pytest.fixture
def business_settings() -> dict[str, Any]:
    """The salon (`apps.catalog.tests.fixtures`: payment required, 10-minute hold, 24-hour cut-off), allowing more
    unpaid bookings per customer."""
    return {"max_pending_per_customer": 5}


@pytest.fixture
def customer_client(customer) -> APIClient:
    return client_for(customer)


@pytest.fixture
def manager_client(manager) -> APIClient:
    return client_for(manager)


@pytest.fixture
def book(customer_client, staff, service, at) -> Callable[..., dict[str, Any]]:
    """`book("10:00")` → the booking JSON, made through the API (pending payment)."""

    def make(hhmm: str = "10:00", *, days: int = 0, client: APIClient | None = None) -> dict[str, Any]:
        resp = (client or customer_client).post(
            "/api/v1/bookings",
            {"staff": staff.pk, "service": service.pk, "start": at(hhmm, days=days).isoformat()},
            format="json",
        )
        assert resp.status_code == 201, resp.content
        assert resp.json()["status"] == "pending_payment"
        return resp.json()

    return make


@pytest.fixture
def card_token(fake) -> Callable[[str], str]:
    """What the app does with the publishable key: tokenize a card at Moyasar (card data never reaches us)."""

    def make(number: str = VISA_OK) -> str:
        return fake.create_token(number=number, save_only=True, callback_url=CALLBACK)["id"]

    return make


@pytest.fixture
def pay(customer_client, card_token) -> Callable[..., Any]:
    """`pay(booking_id)` → the `POST /pay` response, paying with a fresh token for `number`."""

    def make(booking_id: int, number: str = VISA_OK, *, client: APIClient | None = None, **headers: str):
        body = {"source": {"type": "token", "token": card_token(number)}}
        return (client or customer_client).post(f"/api/v1/bookings/{booking_id}/pay", body, format="json", **headers)

    return make


def three_ds(transaction_url: str, result: str = "approve") -> str:
    """The payer on Moyasar's 3-D Secure page: returns where Moyasar sends the browser back (our return URL)."""
    resp = httpx.get(transaction_url, params={"result": result}, follow_redirects=False)
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    return location


@pytest.fixture
def browser() -> APIClient:
    """The payer's browser coming back from Moyasar: no credentials."""
    return APIClient()


def return_to(browser: APIClient, location: str) -> dict[str, Any]:
    parts = urlsplit(location)
    resp = browser.get(f"{parts.path}?{parts.query}", HTTP_ACCEPT="application/json")
    assert resp.status_code == 200, resp.content
    return resp.json()


@pytest.fixture
def authorized(book, pay, browser) -> Callable[..., tuple[dict[str, Any], Payment]]:
    """`authorized()` → (booking JSON, payment): paid with a token, 3-D Secure approved, back on the return page."""

    def make(hhmm: str = "10:00", *, days: int = 0) -> tuple[dict[str, Any], Payment]:
        booking = book(hhmm, days=days)
        resp = pay(booking["id"])
        assert resp.status_code == 201, resp.content
        result = return_to(browser, three_ds(resp.json()["transaction_url"]))
        assert result["outcome"] == "paid", result
        return booking, Payment.objects.get(pk=resp.json()["id"])

    return make


def make_capture_due(payment: Payment) -> None:
    """Time passes until the capture is due: its due time and its scheduled job move to now."""
    Payment.objects.filter(pk=payment.pk).update(capture_due_at=timezone.now() - timedelta(seconds=1))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo' AND task_name = %s",
            ["apps.payments.jobs.payment_capture"],
        )


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `condition()` is truthy (the fake finishing work in its own threads), or fail."""
    deadline = time_module.monotonic() + timeout
    while not (value := condition()):
        assert time_module.monotonic() < deadline, "timed out waiting"
        time_module.sleep(0.05)
    return value


def fake_payment(fake: MoyasarFake, payment: Payment) -> dict[str, Any]:
    payment.refresh_from_db()
    return fake.payment(payment.provider_id or str(payment.given_id))


@pytest.fixture
def webhook_url(live_server) -> str:
    """Where the fake delivers webhooks: the app served by pytest-django's live server."""
    return f"{live_server.url}/api/v1/webhooks/moyasar"
