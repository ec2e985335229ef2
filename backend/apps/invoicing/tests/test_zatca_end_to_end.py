# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""inv's issue services with an onboarded business: documents are stamped (QR tags 1-9) and inv's report job
reports them to the Fatoora fake in ICV order; the fake finds the chain unbroken."""

from __future__ import annotations

import pytest

from apps.invoicing import jobs, services
from apps.invoicing.models import Invoice
from apps.invoicing.tests.factories import booking_of
from apps.invoicing.tests.zatca_fixtures import business, credential, fatoora, fatoora_server  # noqa: F401
from apps.invoicing.zatca.fake.validation import decode_qr
from apps.invoicing.zatca.stamp import production_credential

pytestmark = pytest.mark.django_db


def test_issued_documents_are_stamped_and_reported_through_the_job(fatoora, business, credential):
    booking = booking_of(business, price=11500)
    invoice = services.invoice_issue(booking_id=booking.pk, gross=11500, means="card")
    assert invoice is not None
    note = services.credit_note_issue(invoice=invoice, gross=5750, reason="Cancelled late: half refunded")

    for document in (invoice, note):
        assert document.stamped
        assert sorted(decode_qr(document.qr)) == list(range(1, 10))
    assert note.previous_hash == invoice.invoice_hash

    jobs.invoice_report(invoice_id=invoice.pk)
    jobs.invoice_report(invoice_id=note.pk)

    statuses = dict(Invoice.objects.filter(pk__in=[invoice.pk, note.pk]).values_list("number", "report_status"))
    assert statuses == {invoice.number: "reported", note.number: "reported"}
    documents = fatoora.documents(business.vat_number)
    assert [(d["icv"], d["status"], d["messages"]) for d in documents] == [(1, "REPORTED", []), (2, "REPORTED", [])]


def test_only_an_active_credential_stamps(business, credential, fatoora):
    assert production_credential(business.pk) == credential
    type(credential).objects.filter(pk=credential.pk).update(status="compliance", production_token="")

    assert production_credential(business.pk) is None
