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
        now = time.time()
        window = int(now // self.duration) * self.duration  # the window's start, unix seconds
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_throttlehit (key, window_start, hits) VALUES (%s, %s, 1) "
                "ON CONFLICT (key, window_start) DO UPDATE SET hits = core_throttlehit.hits + 1 RETURNING hits",
                [key[:200], window],
            )
            hits = cursor.fetchone()[0]
        self._wait = window + self.duration - now
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
