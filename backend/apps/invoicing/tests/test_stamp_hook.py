"""The seam between issuing and Phase 2, seen from the issuing side: with a production credential the issue service
stores what `stamp_document` returns, and the chain follows the stamped hash; the report job hands a stamped document
to `report_invoice`. The zatca modules are stood in for by plain modules with the same signatures, so that these
tests pin the seam alone (the real ones run end to end in test_zatca_end_to_end.py)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from apps.invoicing import services
from apps.invoicing.models import Invoice, InvoiceSeries
from apps.invoicing.tests.factories import booking_of, vat_business

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Stamped:
    xml: bytes
    invoice_hash: str
    qr: str


@pytest.fixture
def zatca(monkeypatch):
    calls: dict[str, list] = {"stamp": [], "report": []}
    stamp = types.ModuleType("apps.invoicing.zatca.stamp")
    stamp.production_credential = lambda business_id: {"business": business_id}

    def stamp_document(xml: bytes, *, credential) -> Stamped:
        calls["stamp"].append((xml, credential))
        return Stamped(
            xml=xml.replace(b"<cbc:ProfileID>", b"<!--stamped--><cbc:ProfileID>", 1), invoice_hash="H" * 44, qr="UVI="
        )

    stamp.stamp_document = stamp_document
    reporting = types.ModuleType("apps.invoicing.zatca.reporting")
    reporting.report_invoice = lambda invoice_id: calls["report"].append(invoice_id)
    package = types.ModuleType("apps.invoicing.zatca")
    monkeypatch.setitem(sys.modules, "apps.invoicing.zatca", package)
    monkeypatch.setitem(sys.modules, "apps.invoicing.zatca.stamp", stamp)
    monkeypatch.setitem(sys.modules, "apps.invoicing.zatca.reporting", reporting)
    monkeypatch.setattr("apps.invoicing.jobs.reporting", reporting)  # imported when the jobs module loaded
    return calls


def test_a_stamped_invoice_keeps_the_stamps_hash_and_qr(zatca):
    from apps.invoicing.jobs import invoice_report

    business = vat_business()
    invoice = services.invoice_issue(booking_id=booking_of(business).pk, gross=11500, means="card")
    ((xml, credential),) = zatca["stamp"]
    assert credential == {"business": business.pk}
    assert b"<cbc:ID>INV-000001</cbc:ID>" in xml
    assert invoice.stamped
    assert (invoice.invoice_hash, invoice.qr) == ("H" * 44, "UVI=")
    assert "<!--stamped-->" in invoice.xml
    assert InvoiceSeries.objects.get(business=business).last_hash == "H" * 44
    second = services.invoice_issue(booking_id=booking_of(business).pk, gross=11500, means="card")
    assert second.previous_hash == "H" * 44

    invoice_report(invoice_id=invoice.pk)
    assert zatca["report"] == [invoice.pk]
    assert Invoice.objects.get(pk=invoice.pk).report_status == "pending"  # the reporting body records the outcome


def test_without_a_credential_nothing_is_stamped(zatca, monkeypatch):
    monkeypatch.setattr(sys.modules["apps.invoicing.zatca.stamp"], "production_credential", lambda business_id: None)
    invoice = services.invoice_issue(booking_id=booking_of(vat_business()).pk, gross=11500, means="card")
    assert zatca["stamp"] == []
    assert not invoice.stamped
