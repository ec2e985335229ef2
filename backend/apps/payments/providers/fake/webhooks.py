"""Webhooks from the Moyasar fake: one background thread POSTs each event to the configured URL, retries
failures on their own schedule and records every attempt. Modes: `normal`, `duplicate` (each event
`duplicates` times), `out_of_order` (events are held, then sent newest first on `flush()` or `window` seconds
after the first held one), `wrong_secret`."""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from apps.core.fakes import MAX_LOG_ENTRIES

from .http import UNSET

WEBHOOK_MODES: tuple[str, ...] = ("normal", "duplicate", "out_of_order", "wrong_secret")


@dataclass
class _Delivery:
    event: dict[str, Any]
    url: str
    copy: int
    attempt: int
    generation: int


class WebhookSender:
    """Delivers events from one background thread: first attempts in order, retries on their own schedule."""

    def __init__(
        self,
        *,
        url: str | None,
        secret: str,
        retry_delays: tuple[float, ...],
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.mode = "normal"
        self.duplicates = 2
        self.window: float | None = 1.0
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.timeout = timeout
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Delivery]] = []
        self._held: list[dict[str, Any]] = []
        self._held_url: str | None = None
        self._held_deadline: float | None = None
        self._attempts: list[dict[str, Any]] = []
        self._seq = itertools.count()
        self._generation = 0
        self._inflight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._stamp: Callable[[], str] = lambda: datetime.now(UTC).isoformat()

    # configuration and control
    def config(self) -> dict[str, Any]:
        with self._cond:
            return {
                "url": self.url,
                "secret": self.secret,
                "mode": self.mode,
                "duplicates": self.duplicates,
                "window": self.window,
                "retry_delays": list(self.retry_delays),
                "held": len(self._held),
                "pending": len(self._heap) + self._inflight,
            }

    def configure(
        self,
        *,
        url: Any = UNSET,
        secret: Any = UNSET,
        mode: Any = UNSET,
        duplicates: Any = UNSET,
        window: Any = UNSET,
        retry_delays: Any = UNSET,
    ) -> None:
        if mode is not UNSET and mode not in WEBHOOK_MODES:
            raise ValueError(f"mode must be one of {', '.join(WEBHOOK_MODES)}")
        if url is not UNSET and url is not None and urlsplit(str(url)).scheme not in ("http", "https"):
            raise ValueError("url must be an http(s) URL or null")
        if duplicates is not UNSET and (not isinstance(duplicates, int) or duplicates < 1):
            raise ValueError("duplicates must be a positive integer")
        if window is not UNSET and window is not None and (not isinstance(window, int | float) or window < 0):
            raise ValueError("window must be a number of seconds or null")
        with self._cond:
            if url is not UNSET:
                self.url = url
            if secret is not UNSET:
                self.secret = str(secret)
            if duplicates is not UNSET:
                self.duplicates = duplicates
            if window is not UNSET:
                self.window = None if window is None else float(window)
                if self._held:
                    self._held_deadline = None if self.window is None else time.monotonic() + self.window
            if retry_delays is not UNSET:
                self.retry_delays = tuple(float(d) for d in retry_delays)
            if mode is not UNSET:
                if self.mode == "out_of_order" and mode != "out_of_order":
                    self._release_held_locked()
                self.mode = mode
            self._cond.notify_all()

    def publish(
        self, event_type: str, data: dict[str, Any], created_at: str, account_name: str
    ) -> dict[str, Any] | None:
        with self._cond:
            if not self.url:
                return None
            secret = self.secret if self.mode != "wrong_secret" else "wrong-" + secrets.token_hex(8)
            event = {
                "id": str(uuid.uuid4()),
                "type": event_type,
                "created_at": created_at,
                "secret_token": secret,
                "account_name": account_name,
                "live": False,
                "data": data,
            }
            if self.mode == "out_of_order":
                if self._held and self._held_url != self.url:
                    self._release_held_locked()
                self._held.append(event)
                self._held_url = self.url
                if self._held_deadline is None and self.window is not None:
                    self._held_deadline = time.monotonic() + self.window
            else:
                copies = self.duplicates if self.mode == "duplicate" else 1
                for n in range(1, copies + 1):
                    self._push_locked(_Delivery(event, self.url, n, 1, self._generation), time.monotonic())
            self._cond.notify_all()
            return event

    def flush(self) -> int:
        with self._cond:
            n = len(self._held)
            self._release_held_locked()
            self._cond.notify_all()
            return n

    def attempts(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(a) for a in self._attempts]

    def wait_for_attempts(
        self, count: int, timeout: float, predicate: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [dict(a) for a in self._attempts if predicate is None or predicate(a)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    return matching
                self._cond.wait(remaining)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._inflight or self._held:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._held.clear()
            self._held_deadline = None
            self._attempts.clear()
            self.mode = "normal"
            self._cond.notify_all()

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._run, name="moyasar-fake-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)
            self._thread = None

    # internals
    def _push_locked(self, delivery: _Delivery, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), delivery))

    def _release_held_locked(self) -> None:
        now = time.monotonic()
        url = self._held_url or self.url
        for event in reversed(self._held):
            if url:
                self._push_locked(_Delivery(event, url, 1, 1, self._generation), now)
        self._held.clear()
        self._held_deadline = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = time.monotonic()
                    if self._held and self._held_deadline is not None and now >= self._held_deadline:
                        self._release_held_locked()
                    if self._heap and self._heap[0][0] <= now:
                        _, _, delivery = heapq.heappop(self._heap)
                        self._inflight += 1
                        break
                    waits = [self._heap[0][0]] if self._heap else []
                    if self._held and self._held_deadline is not None:
                        waits.append(self._held_deadline)
                    self._cond.wait(max(0.0, min(waits) - now) if waits else None)
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: _Delivery) -> None:
        status, error = self._post(delivery.url, delivery.event)
        ok = status is not None and 200 <= status < 300
        event = delivery.event
        with self._cond:
            if delivery.generation != self._generation:
                return
            self._attempts.append(
                {
                    "event_id": event["id"],
                    "type": event["type"],
                    "payment_id": (event.get("data") or {}).get("id"),
                    "url": delivery.url,
                    "copy": delivery.copy,
                    "attempt": delivery.attempt,
                    "status_code": status,
                    "error": error,
                    "ok": ok,
                    "secret_token_correct": event["secret_token"] == self.secret,
                    "at": self._stamp(),
                }
            )
            if len(self._attempts) > MAX_LOG_ENTRIES:
                del self._attempts[: len(self._attempts) - MAX_LOG_ENTRIES]
            if not ok and delivery.attempt <= len(self.retry_delays):
                due = time.monotonic() + self.retry_delays[delivery.attempt - 1]
                retry = _Delivery(event, delivery.url, delivery.copy, delivery.attempt + 1, delivery.generation)
                self._push_locked(retry, due)
            self._cond.notify_all()

    def _post(self, url: str, event: dict[str, Any]) -> tuple[int | None, str | None]:
        parts = urlsplit(url)
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        body = json.dumps(event, ensure_ascii=False).encode()
        conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": "Moyasar-Fake-Webhooks/1.0"},
            )
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
