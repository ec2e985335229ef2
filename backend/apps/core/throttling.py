"""DRF throttles counted in PostgreSQL with one statement per request.

DRF's own throttles keep a list of timestamps in the cache; on the PostgreSQL cache that is four or more
statements per request. Here each request is one upsert into an UNLOGGED counter table (fixed windows): shared by
every app process, kept across restarts of the app (not of the database server after a crash, which is fine for
rate limits), and cheap. A fixed window lets a client send up to twice the rate across a window boundary; that is
the usual trade and acceptable for abuse limits. Old windows are deleted by `core.jobs.throttle_cleanup`.
"""

from __future__ import annotations

import time

from django.db import connection
from rest_framework import throttling


def parse_rate(rate: str) -> tuple[int, int]:
    """`"5/hour"` → (5, 3600): DRF's rate syntax (the period's first letter: s, m, h, d)."""
    number, period = rate.split("/")
    return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


def count_hit(key: str, duration: int, *, now: float | None = None) -> tuple[int, float]:
    """Count one request under `key` in the current fixed window of `duration` seconds: (hits in the window so
    far, seconds until the window ends). The same counters as the API throttles (a page and an API route that
    share a key share the limit)."""
    now = time.time() if now is None else now
    window = int(now // duration) * duration  # the window's start, unix seconds
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_throttlehit (key, window_start, hits) VALUES (%s, %s, 1) "
            "ON CONFLICT (key, window_start) DO UPDATE SET hits = core_throttlehit.hits + 1 RETURNING hits",
            [key[:200], window],
        )
        hits = cursor.fetchone()[0]
    return hits, window + duration - now


class _CountedInPostgres:
    rate: str | None
    num_requests: int
    duration: int

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if key is None:
            return True
        hits, self._wait = count_hit(key, self.duration)
        return hits <= self.num_requests

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class AnonThrottle(_CountedInPostgres, throttling.AnonRateThrottle):
    """Anonymous callers, per client address (scope `anon`)."""


class UserThrottle(_CountedInPostgres, throttling.UserRateThrottle):
    """Authenticated callers, per user (scope `user`); anonymous callers are left to `AnonThrottle`."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
