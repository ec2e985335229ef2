import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_anonymous_callers_are_limited_per_address_with_retry_after(api_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})
    codes = [api_client.get("/api/v1/services", REMOTE_ADDR="10.1.1.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api_client.get("/api/v1/services", REMOTE_ADDR="10.1.1.1")
    assert limited.json()["error"]["code"] == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert api_client.get("/api/v1/services", REMOTE_ADDR="10.1.1.2").status_code == 200


def test_the_counter_table_is_unlogged_and_counts_each_request(api_client):
    api_client.get("/api/v1/services")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'core_throttlehit'")
        assert cursor.fetchone()[0] == "u"  # unlogged
        cursor.execute("SELECT sum(hits) FROM core_throttlehit")
        assert cursor.fetchone()[0] == 1
