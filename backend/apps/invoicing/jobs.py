"""Invoicing jobs: report a document to ZATCA, and issue one whose first attempt failed (apps.invoicing.subscribers).

`invoice_report` runs under a procrastinate lock per business (set when it is deferred, services._defer_report), so
a business's documents are reported one at a time in ICV order; a document that keeps failing holds the later ones
back, as the spec asks. The reporting itself is `apps.invoicing.zatca.reporting.report_invoice`; a document that was
not stamped (no production credential when it was issued) is never reported: `not_required`. `invoices_report_sweep`
(every 15 minutes) re-defers a stamped document still pending whose job ran out of retries or was lost.
"""

from __future__ import annotations

from typing import Any

from procrastinate.contrib.django import app

from apps.core.retry import Backoff
from apps.core.scoping import platform
from apps.invoicing import services, subscribers
from apps.invoicing.models import Invoice
from apps.invoicing.zatca import reporting

report_retry = Backoff(max_attempts="INVOICING_REPORT_MAX_ATTEMPTS", cap_seconds=3600)
issue_retry = Backoff(max_attempts="INVOICING_ISSUE_MAX_ATTEMPTS", cap_seconds=3600)


@app.task(queue="invoicing", retry=report_retry)
def invoice_report(*, invoice_id: int) -> None:
    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.report_status != Invoice.ReportStatus.PENDING:
        return
    if not invoice.stamped:
        services.invoice_report_status_set(invoice_id=invoice_id, status=Invoice.ReportStatus.NOT_REQUIRED)
        return
    reporting.report_invoice(invoice_id)


@app.task(queue="invoicing", retry=issue_retry)
def invoice_issue_retry(*, kind: str, arguments: dict[str, Any]) -> None:
    """Issue the invoice or credit note an event's handler could not (idempotent: an issued one is kept)."""
    subscribers.HANDLERS[kind](**arguments)


@app.periodic(cron="*/15 * * * *", periodic_id="invoices_report_sweep")
@app.task(queue="invoicing", queueing_lock="invoices_report_sweep")
def invoices_report_sweep(timestamp: int) -> int:
    """Every 15 minutes: stamped documents still unreported 30 minutes after issue get their job again; those past
    20 hours are logged as errors (`zatca_report_overdue`). Returns how many were deferred again."""
    with platform():
        return len(reporting.report_sweep())
