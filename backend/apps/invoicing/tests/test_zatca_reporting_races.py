# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""Reporting under real concurrency (PostgreSQL, one connection per thread): two workers reporting the same
business at once never send two documents together; each document reaches ZATCA once."""

from __future__ import annotations

import pytest

from apps.core.testing import run_together
from apps.invoicing.models import Invoice
from apps.invoicing.tests.zatca_fixtures import business, credential, fatoora, fatoora_server, issue  # noqa: F401
from apps.invoicing.zatca.reporting import ReportRetryLater, report_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_on_one_document_send_it_once(fatoora, issue):
    invoice = issue()
    fatoora.set_fault("timeout", endpoint="report", delay=0.5)  # the first call holds the business's lock a while

    results = run_together(2, lambda _i: report_invoice(invoice.pk))

    # one sends; the other finds the lock busy (or, when it runs late, the document already reported)
    assert all(r == "reported" or isinstance(r, ReportRetryLater) for r in results)
    assert "reported" in results
    assert len(fatoora.calls.entries("report")) == 1
    invoice.refresh_from_db()
    assert invoice.report_status == Invoice.ReportStatus.REPORTED
    assert invoice.report_attempts == 1


def test_two_workers_on_consecutive_documents_keep_icv_order(fatoora, issue):
    first, second = issue(), issue()
    fatoora.set_fault("timeout", endpoint="report", delay=0.5)

    results = run_together(2, lambda i: report_invoice((first, second)[i].pk))

    # Whoever takes the business's lock first: the second document is never sent before the first; a worker that
    # finds the lock busy, or an earlier document pending, leaves it to the job's retry.
    assert all(r == "reported" or isinstance(r, ReportRetryLater) for r in results)
    for invoice in (first, second):  # the retries
        assert report_invoice(invoice.pk) == "reported"
    assert [(d["icv"], d["status"]) for d in fatoora.documents()] == [(1, "REPORTED"), (2, "REPORTED")]
