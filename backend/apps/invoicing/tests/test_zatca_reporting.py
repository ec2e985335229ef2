# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""Reporting stamped documents over real HTTP against the Fatoora fake: accepted, accepted with warnings, rejected
(flagged, still in the chain), unknown outcomes resent identically and reported exactly once, 401/406."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from apps.core.testing import job_rows
from apps.invoicing.models import Invoice
from apps.invoicing.tests.zatca_fixtures import (  # noqa: F401
    business,
    credential,
    fatoora,
    fatoora_server,
    issue,
)
from apps.invoicing.zatca.client import FatooraClient
from apps.invoicing.zatca.port import FatooraAuthError, FatooraVersionError
from apps.invoicing.zatca.reporting import ReportFailed, ReportRetryLater, report_invoice, report_sweep

pytestmark = pytest.mark.django_db


def test_a_stamped_invoice_is_reported_and_the_fake_verified_hash_signature_and_qr(fatoora, issue):
    invoice = issue()

    assert report_invoice(invoice.pk) == "reported"

    invoice.refresh_from_db()
    assert invoice.report_status == Invoice.ReportStatus.REPORTED
    assert invoice.report_attempts == 1
    assert invoice.reported_at is not None
    (document,) = fatoora.documents()
    assert document["status"] == "REPORTED"
    assert document["hash"] == invoice.invoice_hash
    assert document["icv"] == 1
    assert document["messages"] == []
    # a replayed job changes nothing and sends nothing
    assert report_invoice(invoice.pk) == "reported"
    assert len(fatoora.calls.entries("report")) == 1


def test_the_chain_of_several_documents_is_reported_in_icv_order(fatoora, issue):
    first, second = issue(), issue()

    with pytest.raises(ReportRetryLater):
        report_invoice(second.pk)  # the first is still pending
    assert report_invoice(first.pk) == "reported"
    assert report_invoice(second.pk) == "reported"

    assert [d["icv"] for d in fatoora.documents()] == [1, 2]
    assert all(d["messages"] == [] for d in fatoora.documents())  # ICV and PIH continuous


def test_a_late_document_is_accepted_with_the_age_warning(fatoora, issue):
    invoice = issue(issued_at=timezone.now() - timedelta(hours=25))

    assert report_invoice(invoice.pk) == "warning"

    invoice.refresh_from_db()
    assert [m["code"] for m in invoice.report_messages] == ["BR-KSA-98"]
    assert invoice.reported_at is not None


def test_a_rejected_document_is_flagged_with_zatcas_messages_and_stays_in_the_chain(fatoora, issue, caplog):
    bad = issue(building="12")  # a 2-digit building number: BR-KSA-37
    after = issue()

    assert report_invoice(bad.pk) == "rejected"
    assert report_invoice(after.pk) == "reported"

    bad.refresh_from_db()
    assert bad.report_status == Invoice.ReportStatus.REJECTED
    assert bad.reported_at is None
    assert [m["code"] for m in bad.report_messages] == ["BR-KSA-37"]
    assert any(r.message == "zatca_rejected" and r.levelname == "ERROR" for r in caplog.records)
    # the next document's PIH is the rejected one's hash: the fake found no chain break
    assert [d["messages"] for d in fatoora.documents()][1] == []


@pytest.mark.parametrize("mode", ["timeout", "ambiguous", "ambiguous_reset"])
def test_an_unknown_outcome_is_resent_identically_and_reported_exactly_once(fatoora, issue, settings, mode):
    settings.ZATCA_READ_TIMEOUT = 0.5
    invoice = issue()
    fatoora.set_fault(mode, endpoint="report", delay=1.5)

    with pytest.raises(ReportRetryLater):
        report_invoice(invoice.pk)
    invoice.refresh_from_db()
    assert invoice.report_status == Invoice.ReportStatus.PENDING
    assert invoice.report_attempts == 1

    assert report_invoice(invoice.pk) == "reported"  # the fake answers 409: it holds the first attempt

    invoice.refresh_from_db()
    assert invoice.report_attempts == 2
    assert invoice.report_messages == []
    assert [d["status"] for d in fatoora.documents()] == ["REPORTED", "DUPLICATE"]
    assert {d["hash"] for d in fatoora.documents()} == {invoice.invoice_hash}


@pytest.mark.parametrize("mode", ["error_500", "error_429"])
def test_a_server_error_or_rate_limit_is_retried_later_with_the_same_payload(fatoora, issue, mode):
    invoice = issue()
    fatoora.set_fault(mode, endpoint="report")

    with pytest.raises(ReportRetryLater):
        report_invoice(invoice.pk)
    assert report_invoice(invoice.pk) == "reported"

    assert [d["status"] for d in fatoora.documents()] == ["REPORTED"]


def test_the_409_variant_body_counts_as_reported(fatoora, issue, credential):
    invoice = issue()
    fatoora.duplicate_body = "message"
    body = {
        "invoiceHash": invoice.invoice_hash,
        "uuid": str(invoice.uuid),
        "invoice": base64.b64encode(invoice.xml.encode()).decode(),
    }
    with FatooraClient(base_url=fatoora.api_url) as client:
        first = client.report(
            token=credential.production_token,
            secret=credential.production_secret,
            invoice_hash=body["invoiceHash"],
            uuid=body["uuid"],
            invoice_base64=body["invoice"],
        )
        again = client.report(
            token=credential.production_token,
            secret=credential.production_secret,
            invoice_hash=body["invoiceHash"],
            uuid=body["uuid"],
            invoice_base64=body["invoice"],
        )
    fatoora.duplicate_body = "errors"

    assert first.kind == "reported"
    assert again.kind == "duplicate"
    assert again.accepted
    assert again.reporting_status == "REPORTED_SUCCESSFULLY_EARLIER"


def test_a_bad_csid_is_401_and_leaves_the_document_pending_with_the_error(fatoora, issue, credential):
    invoice = issue()
    type(credential).objects.filter(pk=credential.pk).update(production_secret="wrong")

    with pytest.raises(ReportFailed):
        report_invoice(invoice.pk)

    invoice.refresh_from_db()
    assert invoice.report_status == Invoice.ReportStatus.PENDING
    assert invoice.report_messages[0]["code"] == "401"


def test_a_missing_accept_version_is_406_and_the_client_always_sends_it(fatoora, credential):
    response = httpx.post(f"{fatoora.api_url}/invoices/reporting/single", json={})
    assert response.status_code == 406
    assert response.text == "This Version is not supported or not provided in the header."

    with FatooraClient(base_url=fatoora.api_url) as client:
        client._http.headers.pop("Accept-Version")  # what a misconfigured client would send
        with pytest.raises(FatooraVersionError):
            client.report(token="t", secret="s", invoice_hash="h", uuid="u", invoice_base64="")
    with FatooraClient(base_url=fatoora.api_url) as client, pytest.raises(FatooraAuthError):
        client.report(token="t", secret="s", invoice_hash="h", uuid="u", invoice_base64="")


def test_a_document_still_unreported_after_20_hours_is_logged_as_an_error(fatoora, issue, caplog):
    invoice = issue(issued_at=timezone.now() - timedelta(hours=21))
    fatoora.set_fault("error_500", endpoint="report")

    with pytest.raises(ReportRetryLater):
        report_invoice(invoice.pk)

    assert any(r.message == "zatca_report_overdue" and r.levelname == "ERROR" for r in caplog.records)


def test_a_business_without_a_credential_needs_no_reporting(fatoora, issue, credential):
    invoice = issue()
    type(credential).objects.filter(pk=credential.pk).delete()

    assert report_invoice(invoice.pk) == "not_required"
    assert fatoora.calls.entries("report") == []


def test_the_fake_clock_ages_documents(fatoora, issue):
    invoice = issue()
    with time_machine.travel(timezone.now() + timedelta(hours=30), tick=True):
        assert report_invoice(invoice.pk) == "warning"


def test_the_sweep_defers_pending_documents_without_a_job_and_logs_the_overdue(fatoora, issue, caplog):
    fresh = issue()
    old = issue(issued_at=timezone.now() - timedelta(hours=21))
    done = issue(issued_at=timezone.now() - timedelta(hours=2))
    Invoice.objects.filter(pk=done.pk).update(report_status="reported")
    assert job_rows("apps.invoicing.jobs.invoice_report") == []  # these were written directly, without jobs

    assert report_sweep() == [old.pk]
    assert report_sweep() == []  # its job is queued now

    rows = job_rows("apps.invoicing.jobs.invoice_report")
    assert [r["args"] for r in rows] == [{"invoice_id": old.pk}]
    assert fresh.pk not in [r["args"]["invoice_id"] for r in rows]
    assert [r.levelname for r in caplog.records if r.message == "zatca_report_overdue"] == ["ERROR", "ERROR"]
