"""The website's "My data": the link on my bookings (Arabic first) and the download, the same document as
`GET /api/v1/me/export` (docs/privacy.md): the person's own rows only, as a file, a few times an hour."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=ZoneInfo("Asia/Riyadh"))


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=False):
        yield PINNED


@pytest.fixture
def me(make_user):
    return make_user(name="Me Myself", phone="+966501234000")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_bookings_links_to_my_data_in_arabic(me):
    page = _client(me).get("/my/bookings")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/my/data" download' in html
    assert "بياناتي" in html
    assert "تنزيل بياناتي" in html


def test_my_data_is_a_file_with_my_rows_only(me, make_user, service, staff):
    mine = BookingFactory.create(customer=me, service=service, staff=staff, notes="my own note")
    stranger = make_user(name="Somebody Else", phone="+966501234999")
    BookingFactory.create(customer=stranger, service=service, staff=staff, notes="a stranger's note")
    resp = _client(me).get("/my/data")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/json")
    assert resp["Content-Disposition"] == 'attachment; filename="mawid-my-data-2027-01-12.json"'
    assert resp["Cache-Control"] == "no-store"
    doc = json.loads(resp.content)
    assert doc["format"] == "mawid.personal-data"
    assert doc["generated_at"].startswith("2027-01-12T06:30:00")
    assert doc["profile"][0]["phone"] == "+966501234000"
    assert [(b["id"], b["notes"]) for b in doc["bookings"]] == [(mine.pk, "my own note")]
    text = resp.content.decode()
    assert "Somebody Else" not in text
    assert "501234999" not in text
    assert "a stranger's note" not in text


def test_my_data_needs_a_login():
    resp = Client().get("/my/data")
    assert resp.status_code == 302
    assert "/login" in resp["Location"]


def test_my_data_is_limited_per_hour(me, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "personal_data_export": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = _client(me)
    assert [client.get("/my/data").status_code for _ in range(3)] == [200, 200, 429]
    assert int(client.get("/my/data")["Retry-After"]) > 0
