"""The UBL document's shape and its hash (shared/specs/zatca.md §2)."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime

from lxml import etree

from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.hashing import canonical, invoice_hash
from apps.invoicing.ubl import NS_CAC, NS_CBC, NS_EXT, Document, Line, Seller, build

NS = {"cac": NS_CAC, "cbc": NS_CBC, "ext": NS_EXT, "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"}
SELLER = Seller(
    name="صالون مواعيد",
    vat_number="310122393500003",
    cr_number="1010010000",
    street="King Fahd Road",
    building_number="1234",
    additional_number="5678",
    district="Al Olaya",
    city="Riyadh",
    postal_code="12214",
)
DOCUMENT = Document(
    number="INV-000123",
    uuid="3cf5ee18-ee25-44ea-a444-2c37ba7f28be",
    issued_at=datetime(2026, 5, 1, 10, 30, tzinfo=UTC),  # 13:30 in Riyadh
    type_code="388",
    icv=124,
    previous_hash=FIRST_PIH,
    seller=SELLER,
    means_code="48",
    net=10000,
    vat=1500,
    rate_bps=1500,
    lines=[Line(name="قص شعر", net=10000, vat=1500)],
)


def _children(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [etree.QName(child).localname for child in root]


def test_children_in_the_spec_order():
    xml = build(DOCUMENT, qr="QRTEXT")
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert _children(xml) == [
        "ProfileID",
        "ID",
        "UUID",
        "IssueDate",
        "IssueTime",
        "InvoiceTypeCode",
        "DocumentCurrencyCode",
        "TaxCurrencyCode",
        "AdditionalDocumentReference",
        "AdditionalDocumentReference",
        "AdditionalDocumentReference",
        "Signature",
        "AccountingSupplierParty",
        "AccountingCustomerParty",
        "PaymentMeans",
        "TaxTotal",
        "TaxTotal",
        "LegalMonetaryTotal",
        "InvoiceLine",
    ]
    root = etree.fromstring(xml)

    def text(path: str) -> str:
        return root.xpath(f"string({path})", namespaces=NS)

    assert text("cbc:IssueDate") == "2026-05-01"
    assert text("cbc:IssueTime") == "13:30:00"
    assert text("cbc:InvoiceTypeCode") == "388"
    assert text("cbc:InvoiceTypeCode/@name") == "0200000"
    assert text("cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID") == "124"
    assert text("cac:AdditionalDocumentReference[cbc:ID='PIH']//cbc:EmbeddedDocumentBinaryObject") == FIRST_PIH
    assert text("cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject") == "QRTEXT"
    party = "cac:AccountingSupplierParty/cac:Party"
    assert text(f"{party}/cac:PartyIdentification/cbc:ID[@schemeID='CRN']") == "1010010000"
    assert text(f"{party}/cac:PostalAddress/cbc:BuildingNumber") == "1234"
    assert text(f"{party}/cac:PostalAddress/cbc:PostalZone") == "12214"
    assert text(f"{party}/cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "SA"
    assert text(f"{party}/cac:PartyTaxScheme/cbc:CompanyID") == "310122393500003"
    assert text(f"{party}/cac:PartyLegalEntity/cbc:RegistrationName") == "صالون مواعيد"
    assert root.xpath("count(cac:AccountingCustomerParty/cac:Party/*)", namespaces=NS) == 0
    assert text("cac:PaymentMeans/cbc:PaymentMeansCode") == "48"
    assert text("cac:TaxTotal[1]/cbc:TaxAmount") == "15.00"
    assert root.xpath("count(cac:TaxTotal[1]/cac:TaxSubtotal)", namespaces=NS) == 0
    assert text("cac:TaxTotal[2]/cac:TaxSubtotal/cbc:TaxableAmount") == "100.00"
    assert text("cac:TaxTotal[2]/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == "15.00"
    assert text("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "115.00"
    assert text("cac:LegalMonetaryTotal/cbc:PayableAmount") == "115.00"
    assert text("cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID") == "SAR"
    assert text("cac:InvoiceLine/cac:TaxTotal/cbc:RoundingAmount") == "115.00"
    assert text("cac:InvoiceLine/cbc:InvoicedQuantity/@unitCode") == "PCE"
    assert text("cac:InvoiceLine/cac:Price/cbc:PriceAmount") == "100.00"
    # Every amount carries its currency; no element is empty except the customer's party.
    for element in root.iter():
        if element.text is None and len(element) == 0:
            assert etree.QName(element).localname == "Party"


def test_a_credit_note_references_its_invoice_and_states_why():
    note = replace(DOCUMENT, type_code="381", number="CRN-000001", original_number="INV-000123", reason="Refund")
    root = etree.fromstring(build(note))
    assert root.xpath("string(cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID)", namespaces=NS) == (
        "INV-000123"
    )
    assert root.xpath("string(cac:PaymentMeans/cbc:InstructionNote)", namespaces=NS) == "Refund"
    assert _children(build(note)).index("BillingReference") == 8


def test_the_hash_ignores_the_qr_the_signature_and_the_extensions():
    bare = build(DOCUMENT)
    with_qr = build(DOCUMENT, qr="AQtNYXdpZA==")
    assert invoice_hash(bare) == invoice_hash(with_qr)
    # The extensions' content is not hashed; the whitespace around them is (the hash is of the bytes sent, so
    # the stamp hashes the document after inserting them).
    extensions = b"<ext:UBLExtensions><ext:UBLExtension>sig</ext:UBLExtension></ext:UBLExtensions>"
    stamped = with_qr.replace(b"<cbc:ProfileID>", extensions + b"<cbc:ProfileID>", 1)
    assert stamped != with_qr
    assert invoice_hash(stamped) == invoice_hash(with_qr)
    indented = with_qr.replace(b"<cbc:ProfileID>", extensions + b"\n    <cbc:ProfileID>", 1)
    assert invoice_hash(indented) != invoice_hash(with_qr)


def test_the_hash_is_stable_and_follows_the_amounts():
    first = invoice_hash(build(DOCUMENT))
    assert first == invoice_hash(build(DOCUMENT))
    assert len(base64.b64decode(first)) == 32
    changed = replace(DOCUMENT, net=10001, vat=1500)
    assert invoice_hash(build(changed)) != first


def test_removal_keeps_the_whitespace_around_the_removed_elements():
    xml = build(DOCUMENT, qr="QRTEXT")
    # An independent reading of the recipe: cut the three elements out of the text, leave everything between.
    text = xml.decode("utf-8")
    text = re.sub(r"<cac:Signature>.*?</cac:Signature>", "", text, flags=re.S)
    text = re.sub(
        r"<cac:AdditionalDocumentReference>\s*<cbc:ID>QR</cbc:ID>.*?</cac:AdditionalDocumentReference>",
        "",
        text,
        flags=re.S,
    )
    oracle = etree.tostring(etree.fromstring(text.encode("utf-8")), method="c14n")
    assert canonical(xml) == oracle
    assert invoice_hash(xml) == base64.b64encode(hashlib.sha256(oracle).digest()).decode()
    # Dropping the whitespace as well (a common bug) gives another hash: the one ZATCA calls invalid.
    squeezed = re.sub(rb"\n\s*\n", b"\n", oracle)
    assert squeezed != oracle
    assert base64.b64encode(hashlib.sha256(squeezed).digest()).decode() != invoice_hash(xml)


def test_the_first_pih_is_the_base64_of_the_hex_of_sha256_of_zero():
    assert base64.b64encode(hashlib.sha256(b"0").hexdigest().encode()).decode() == FIRST_PIH
