"""OTP abuse counters, served at `/metrics` with the rest (prometheus_client's default registry, see core/metrics.py).

- `mawid_otp_verify_failures_total{pool}` — wrong codes, by failure pool (`untrusted`: clients not recognised for
  the phone, together; `trusted`: a recognised device or network, each with its own budget).
- `mawid_otp_refusals_total{reason}` — requests and checks refused before any code was sent or compared:
  `cooldown`, `phone_client_cap`, `phone_cap`, `client_cap`, `country_not_allowed`, `sms_budget_exhausted`
  (code requests); `backoff`, `locked` (code checks). Alert on `locked` and `sms_budget_exhausted`.
- `mawid_otp_deliveries_total{outcome}` — delivery job runs: `sent`, `retry`, `failed`, `unknown` (gave up after a
  send that may have delivered the code: no more texts for that code).
"""

from __future__ import annotations

import logging

from prometheus_client import Counter

logger = logging.getLogger("mawid.metrics")

VERIFY_FAILURES = Counter("mawid_otp_verify_failures_total", "Wrong login codes, by failure pool.", ["pool"])
REFUSALS = Counter(
    "mawid_otp_refusals_total", "Login code requests and checks refused by an abuse limit, by reason.", ["reason"]
)
DELIVERIES = Counter("mawid_otp_deliveries_total", "Login code delivery attempts, by outcome.", ["outcome"])

# Every series exists from the start (at 0), so an alert sees a value rather than nothing.
for _pool in ("untrusted", "trusted"):
    VERIFY_FAILURES.labels(_pool)
_REASONS = "cooldown phone_client_cap phone_cap client_cap country_not_allowed sms_budget_exhausted backoff locked"
for _reason in _REASONS.split():
    REFUSALS.labels(_reason)
for _outcome in ("sent", "retry", "failed", "unknown"):
    DELIVERIES.labels(_outcome)


def _inc(counter: Counter, label: str) -> None:
    try:
        counter.labels(label).inc()
    except Exception:  # noqa: BLE001 - metrics must never break a login
        logger.warning("metrics_failed", exc_info=True)


def verify_failure(*, pool: str) -> None:
    _inc(VERIFY_FAILURES, "untrusted" if pool == "untrusted" else "trusted")


def refusal(*, reason: str) -> None:
    _inc(REFUSALS, reason)


def delivery(*, outcome: str) -> None:
    _inc(DELIVERIES, outcome)
