from datetime import UTC, datetime

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_anonymous_callers_are_limited_per_address_with_retry_after(api_client, monkeypatch, time_machine):
    from rest_framework.throttling import SimpleRateThrottle

    # The counts are per clock minute: with the real clock, a minute ending between two requests reset the count.
    time_machine.move_to(datetime(2026, 12, 3, 7, 0, 40, tzinfo=UTC), tick=False)
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})
    codes = [api_client.get("/api/v1/services", REMOTE_ADDR="10.1.1.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api_client.get("/api/v1/services", REMOTE_ADDR="10.1.1.1")
    assert limited.json()["error"]["code"] == "throttled"
    assert int(limited["Retry-After"]) == 20  # the rest of the minute
    assert api_client.get("/api/v1/services", REMOTE_ADDR="10.1.1.2").status_code == 200


def test_the_counter_table_is_unlogged_and_counts_each_request(api_client):
    api_client.get("/api/v1/services")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'core_throttlehit'")
        assert cursor.fetchone()[0] == "u"  # unlogged
        cursor.execute("SELECT sum(hits) FROM core_throttlehit")
        assert cursor.fetchone()[0] == 1
