"""Django's PostgreSQL backend, with a connection health check that costs no round trip when all is quiet.

With persistent connections (`DATABASE_CONN_MAX_AGE`) Django checks a kept connection before each request's first
query (`CONN_HEALTH_CHECKS`, on here), so that a connection the server closed meanwhile (a restart, a failover,
`pg_terminate_backend`, an idle timeout) is replaced instead of failing the request. Django's check is a
`SELECT 1`: one more round trip on every request, a tenth of a booking's (docs/booking-path.md).

Here the check first asks the socket, without a round trip: a server that ends a session says so (it sends an
error and closes, or the connection resets), so data waiting on an idle connection's socket means it has
something to say. Only then does the `SELECT 1` run (which also reads whatever arrived), and the connection is
replaced if it fails. A quiet socket passes without a query. What neither check can see before a query is a peer
that vanished without a word (a cut cable): Django's `SELECT 1` would wait for it as long as the request's first
query does.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self._has_news() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def _has_news(self) -> bool:
        """Whether an idle connection is closed, broken, or has data from the server waiting to be read."""
        conn = self.connection
        if conn.closed or conn.broken:
            return True
        try:
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True
