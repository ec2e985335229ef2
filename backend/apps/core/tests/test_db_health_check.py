"""The per-request health check of kept database connections (config/postgresql/base.py): free while the
connection is quiet, and a connection the server has ended is still replaced before the request's first query."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def select_1_calls(monkeypatch) -> list[int]:
    """Counts Django's `SELECT 1` check (`is_usable` runs it on the raw connection, out of the query log)."""
    calls: list[int] = []
    real = connection.is_usable

    def counted() -> bool:
        calls.append(1)
        return real()

    monkeypatch.setattr(connection, "is_usable", counted)
    return calls


def _next_request() -> None:
    """What Django does when a request starts (`close_old_connections`), minus the age limit."""
    setattr(connection, "health_check_done", False)  # noqa: B010 - Django's attribute, not in django-stubs


def _query() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_quiet_connection_passes_without_a_round_trip(select_1_calls):
    pid = _query()
    assert connection.health_check_enabled  # CONN_HEALTH_CHECKS, from config/database.py

    for _ in range(3):
        _next_request()
        assert _query() == pid

    assert select_1_calls == []


def test_a_connection_the_server_ended_is_replaced_before_the_first_query(select_1_calls):
    pid = _query()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    time.sleep(0.2)  # the server's goodbye reaches our socket

    _next_request()
    new_pid = _query()  # no error: the check saw the news, ran SELECT 1, which failed, and reconnected

    assert new_pid != pid
    assert select_1_calls == [1]
