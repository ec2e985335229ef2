"""Payment jobs: take ids, call a service. Every provider call of the lifecycle (except creating the payment in
`POST /pay`) happens here, outside the transactions that decided it.

Provider trouble (`GatewayError` with `retryable`) and a busy payment (`PaymentBusy`) are retried with backoff;
refusals (`retryable = False`) are not: the service has recorded and flagged them.
"""

from __future__ import annotations

from procrastinate.contrib.django import app

from apps.core.retry import Backoff
from apps.payments import services
from apps.payments.errors import PaymentBusy
from apps.payments.providers.base import GatewayError

payment_retry = Backoff(
    max_attempts="PAYMENTS_JOB_MAX_ATTEMPTS", retry_exceptions=(GatewayError, PaymentBusy), cap_seconds=1800
)


@app.task(queue="payments", retry=payment_retry)
def payment_capture(*, payment_id: int, force: bool = False) -> None:
    """Capture when due (re-checked now: a reschedule may have moved it); `force` for no-show and managers."""
    services.payment_capture(payment_id=payment_id, force=force)


@app.task(queue="payments", retry=payment_retry)
def payment_void(*, payment_id: int) -> None:
    services.payment_void(payment_id=payment_id)


@app.task(queue="payments", retry=payment_retry)
def payment_refund(*, refund_id: int) -> None:
    services.refund_execute(refund_id=refund_id)


@app.task(queue="payments", retry=payment_retry)
def payment_sync(*, payment_id: int) -> None:
    services.payment_sync(payment_id=payment_id)


@app.task(queue="payments", retry=payment_retry)
def payment_create_recover(*, payment_id: int) -> None:
    """After `POST /pay` answered `pending`: find the payment at Moyasar by its given_id (retried until it shows up,
    or the attempt is abandoned as never having reached Moyasar)."""
    services.payment_create_recover(payment_id=payment_id)


@app.task(queue="payments", retry=payment_retry)
def payment_webhook_process(*, event_pk: int) -> None:
    services.webhook_process(event_pk=event_pk)


@app.periodic(cron="*/5 * * * *", periodic_id="payments_reconcile")
@app.task(queue="payments", queueing_lock="payments_reconcile")
def payments_reconcile(timestamp: int) -> dict[str, int]:
    """Every 5 minutes: settle unknown outcomes, capture what is due, return money that should not be held,
    resend pending refunds, flag inconsistencies."""
    return services.payments_reconcile()
