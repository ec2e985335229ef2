"""Reporting one simplified document to ZATCA (shared/specs/zatca.md §3 "Reporting", "Idempotency"; CONTRACT15 §5).

`report_invoice(invoice_id)` is the body of inv's job `apps.invoicing.jobs.invoice_report`:

* A document already settled (reported, warning, rejected, not_required) is left alone: replays are harmless.
* No active production credential for the business, or an unstamped document: `not_required`.
* ICV order, one at a time per business: while an earlier document of the business is still `pending`, or
  another worker holds the business's reporting lock (a PostgreSQL session advisory lock, held only around the
  call, never a transaction across it), `ReportRetryLater` is raised and the job retries.
* Record, then call: `report_attempts` is incremented and committed first; the call sends the **identical**
  stored bytes, hash and UUID every time (never re-signed); the outcome lands in a second short transaction.
* Outcomes: 200 → `reported`; 202 → `warning` (messages kept); 409 → `reported` (ZATCA holds it from an earlier
  attempt); 400 with validation results → `rejected`, ZATCA's messages kept and the document flagged for a person
  (an error log line `zatca_rejected`; the admin filters `report_status=rejected`). It stays in the chain.
* Unknown outcome (timeout, 5xx, HTML 504, 429): `ReportRetryLater` (the job's backoff, `REPORT_RETRY`); past
  `OVERDUE` (20 h after issue) each further failure is logged as an error (`zatca_report_overdue`).
* 401/406/malformed 400: the document stays `pending` with the error kept in `report_messages`, logged as an
  error; `ReportFailed` (not retried: a person must renew the CSID or fix the bug; the next document's job will
  find this one pending and wait, so re-run it with `invoice_report` once fixed).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .onboarding import get_fatoora
from .port import DUPLICATE, REJECTED, WARNING, Fatoora, FatooraError, FatooraUnavailable, ValidationOutcome

logger = logging.getLogger("mawid.invoicing.zatca")

OVERDUE = timedelta(hours=20)
_LOCK_NAMESPACE = 0x2A7CA  # pg_advisory_lock(namespace, business_id)


class ReportRetryLater(Exception):
    """The document could not be reported now (unknown outcome, an earlier one pending, another worker busy)."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReportFailed(Exception):
    """ZATCA refused the request itself (credentials, API version, a malformed request): a person must act."""


@contextmanager
def _business_lock(business_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, business_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, business_id])


def _settle(invoice_id: int, **fields: Any) -> None:
    from apps.invoicing.models import Invoice

    with transaction.atomic():
        Invoice.objects.select_for_update().filter(pk=invoice_id).update(**fields)


def report_invoice(invoice_id: int, *, fatoora: Fatoora | None = None) -> str:
    """Report the document once; returns its report_status afterwards. See the module docstring."""
    from apps.invoicing.models import Invoice, ZatcaCredential

    status = Invoice.ReportStatus
    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.report_status != status.PENDING:
        return str(invoice.report_status)
    credential = ZatcaCredential.objects.filter(business_id=invoice.business_id).first()
    if credential is None or not credential.is_active or not invoice.stamped:
        _settle(invoice_id, report_status=status.NOT_REQUIRED)
        return str(status.NOT_REQUIRED)
    with _business_lock(invoice.business_id) as acquired:
        if not acquired:
            raise ReportRetryLater("another worker is reporting this business's documents", retry_after=5)
        earlier = Invoice.objects.filter(
            business_id=invoice.business_id, icv__lt=invoice.icv, report_status=status.PENDING
        ).order_by("icv")
        first = earlier.values_list("icv", flat=True).first()
        if first is not None:
            raise ReportRetryLater(f"document ICV {first} of this business is still to be reported first")
        invoice.refresh_from_db()
        if invoice.report_status != status.PENDING:
            return str(invoice.report_status)
        _settle(invoice_id, report_attempts=F("report_attempts") + 1)
        client = fatoora or get_fatoora()
        try:
            outcome = client.report(
                token=credential.production_token,
                secret=credential.production_secret,
                invoice_hash=invoice.invoice_hash,
                uuid=str(invoice.uuid),
                invoice_base64=base64.b64encode(invoice.xml.encode("utf-8")).decode(),
            )
        except FatooraUnavailable as exc:
            age = timezone.now() - invoice.issued_at
            log = logger.error if age >= OVERDUE else logger.warning
            log(
                "zatca_report_overdue" if age >= OVERDUE else "zatca_report_unknown",
                extra={
                    "invoice_id": invoice_id,
                    "reason": exc.reason,
                    "age_hours": round(age.total_seconds() / 3600, 1),
                },
            )
            raise ReportRetryLater(str(exc), retry_after=exc.retry_after) from exc
        except FatooraError as exc:
            messages = [
                {
                    "type": "ERROR",
                    "code": str(exc.status_code),
                    "category": "Request",
                    "message": str(exc),
                    "status": "ERROR",
                }
            ]
            messages += exc.errors
            _settle(invoice_id, report_messages=messages)
            logger.error(
                "zatca_report_failed",
                extra={"invoice_id": invoice_id, "status_code": exc.status_code, "error": type(exc).__name__},
            )
            raise ReportFailed(str(exc)) from exc
        finally:
            if fatoora is None:
                client.close()
        return _record_outcome(invoice_id, outcome)


def _record_outcome(invoice_id: int, outcome: ValidationOutcome) -> str:
    from apps.invoicing.models import Invoice

    status = Invoice.ReportStatus
    messages = [m.as_dict() for m in outcome.messages if m.type in ("WARNING", "ERROR")]
    if outcome.kind == REJECTED:
        _settle(invoice_id, report_status=status.REJECTED, report_messages=messages)
        logger.error(
            "zatca_rejected",
            extra={
                "invoice_id": invoice_id,
                "codes": [m["code"] for m in messages],
                "attention": "needs a new document",
            },
        )
        return str(status.REJECTED)
    new = status.WARNING if outcome.kind == WARNING else status.REPORTED
    if outcome.kind == DUPLICATE:
        messages = []  # ZATCA holds it from an earlier attempt whose answer was lost
    _settle(invoice_id, report_status=new, report_messages=messages, reported_at=timezone.now())
    logger.info("zatca_reported", extra={"invoice_id": invoice_id, "outcome": outcome.kind})
    return str(new)


def report_sweep(*, older_than: timedelta = timedelta(minutes=30)) -> list[int]:
    """The safety net for a periodic job: every stamped document still `pending` `older_than` after issue whose
    reporting job is no longer queued (its retries ran out while ZATCA was down, or it was lost) gets a new
    `invoice_report` job; those past `OVERDUE` are logged as errors (`zatca_report_overdue`). Returns the ids of
    the documents deferred again. Run it under `platform()` (a job or a command does)."""
    from procrastinate.contrib.django import app as procrastinate_app
    from procrastinate.contrib.django.models import ProcrastinateJob

    from apps.invoicing.models import Invoice

    task_name = "apps.invoicing.jobs.invoice_report"
    now = timezone.now()
    pending = Invoice.objects.filter(
        report_status=Invoice.ReportStatus.PENDING, stamped=True, issued_at__lte=now - older_than
    ).order_by("business_id", "icv")
    queued = {
        int(args["invoice_id"])
        for args in ProcrastinateJob.objects.filter(task_name=task_name, status__in=["todo", "doing"]).values_list(
            "args", flat=True
        )
        if isinstance(args, dict) and "invoice_id" in args
    }
    deferred: list[int] = []
    for invoice_id, business_id, issued_at in pending.values_list("pk", "business_id", "issued_at"):
        if now - issued_at >= OVERDUE:
            logger.error(
                "zatca_report_overdue",
                extra={"invoice_id": invoice_id, "age_hours": round((now - issued_at).total_seconds() / 3600, 1)},
            )
        if invoice_id in queued:
            continue
        with transaction.atomic():
            procrastinate_app.tasks[task_name].configure(lock=f"invoicing-report-{business_id}").defer(
                invoice_id=invoice_id
            )
        deferred.append(invoice_id)
    return deferred
