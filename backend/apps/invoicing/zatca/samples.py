"""Unsigned sample documents in the spec's UBL layout (shared/specs/zatca.md §2), for onboarding's compliance
checks (a simplified invoice and a simplified credit note per declared type `0100`) and for tests.

Four-space indentation, the element order of the spec, amounts with 2 decimals and `currencyID="SAR"`, VAT with
`apps.core.vat.vat_of_net` (half-up on the document's taxable amount). The real documents are inv's
(`apps/invoicing/ubl.py`); these only have to be valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from apps.core.vat import vat_of_net

from ._hashing import FIRST_PIH


@dataclass(frozen=True, slots=True)
class Seller:
    name: str
    vat_number: str
    crn: str = "1010010000"
    street: str = "King Fahd Road"
    building: str = "1234"
    district: str = "Al Olaya"
    city: str = "Riyadh"
    postal_code: str = "12345"


def sar(halalas: int) -> str:
    return f"{halalas // 100}.{halalas % 100:02d}"


def document(
    *,
    seller: Seller,
    number: str,
    uuid: str,
    icv: int,
    issued_at: datetime,
    net: int,
    item: str = "Haircut",
    pih: str = FIRST_PIH,
    kind: str = "invoice",
    billing_reference: str = "",
    reason: str = "",
    means: str = "48",
    type_name: str = "0200000",
) -> bytes:
    """One simplified document with one line of `net` halalas at 15 %. `kind` "credit" makes a 381 note."""
    vat = vat_of_net(net)
    gross = net + vat
    code = {"invoice": "388", "credit": "381", "debit": "383"}[kind]
    e = escape
    reference = (
        "    <cac:BillingReference>\n"
        "        <cac:InvoiceDocumentReference>\n"
        f"            <cbc:ID>{e(billing_reference)}</cbc:ID>\n"
        "        </cac:InvoiceDocumentReference>\n"
        "    </cac:BillingReference>\n"
        if billing_reference
        else ""
    )
    note = f"\n        <cbc:InstructionNote>{e(reason)}</cbc:InstructionNote>" if reason else ""
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2">
    <cbc:ProfileID>reporting:1.0</cbc:ProfileID>
    <cbc:ID>{e(number)}</cbc:ID>
    <cbc:UUID>{e(uuid)}</cbc:UUID>
    <cbc:IssueDate>{issued_at:%Y-%m-%d}</cbc:IssueDate>
    <cbc:IssueTime>{issued_at:%H:%M:%S}</cbc:IssueTime>
    <cbc:InvoiceTypeCode name="{e(type_name)}">{code}</cbc:InvoiceTypeCode>
    <cbc:DocumentCurrencyCode>SAR</cbc:DocumentCurrencyCode>
    <cbc:TaxCurrencyCode>SAR</cbc:TaxCurrencyCode>
{reference}    <cac:AdditionalDocumentReference>
        <cbc:ID>ICV</cbc:ID>
        <cbc:UUID>{icv}</cbc:UUID>
    </cac:AdditionalDocumentReference>
    <cac:AdditionalDocumentReference>
        <cbc:ID>PIH</cbc:ID>
        <cac:Attachment>
            <cbc:EmbeddedDocumentBinaryObject mimeCode="text/plain">{e(pih)}</cbc:EmbeddedDocumentBinaryObject>
        </cac:Attachment>
    </cac:AdditionalDocumentReference>
    <cac:AccountingSupplierParty>
        <cac:Party>
            <cac:PartyIdentification>
                <cbc:ID schemeID="CRN">{e(seller.crn)}</cbc:ID>
            </cac:PartyIdentification>
            <cac:PostalAddress>
                <cbc:StreetName>{e(seller.street)}</cbc:StreetName>
                <cbc:BuildingNumber>{e(seller.building)}</cbc:BuildingNumber>
                <cbc:CitySubdivisionName>{e(seller.district)}</cbc:CitySubdivisionName>
                <cbc:CityName>{e(seller.city)}</cbc:CityName>
                <cbc:PostalZone>{e(seller.postal_code)}</cbc:PostalZone>
                <cac:Country>
                    <cbc:IdentificationCode>SA</cbc:IdentificationCode>
                </cac:Country>
            </cac:PostalAddress>
            <cac:PartyTaxScheme>
                <cbc:CompanyID>{e(seller.vat_number)}</cbc:CompanyID>
                <cac:TaxScheme>
                    <cbc:ID>VAT</cbc:ID>
                </cac:TaxScheme>
            </cac:PartyTaxScheme>
            <cac:PartyLegalEntity>
                <cbc:RegistrationName>{e(seller.name)}</cbc:RegistrationName>
            </cac:PartyLegalEntity>
        </cac:Party>
    </cac:AccountingSupplierParty>
    <cac:AccountingCustomerParty>
        <cac:Party/>
    </cac:AccountingCustomerParty>
    <cac:PaymentMeans>
        <cbc:PaymentMeansCode>{e(means)}</cbc:PaymentMeansCode>{note}
    </cac:PaymentMeans>
    <cac:TaxTotal>
        <cbc:TaxAmount currencyID="SAR">{sar(vat)}</cbc:TaxAmount>
    </cac:TaxTotal>
    <cac:TaxTotal>
        <cbc:TaxAmount currencyID="SAR">{sar(vat)}</cbc:TaxAmount>
        <cac:TaxSubtotal>
            <cbc:TaxableAmount currencyID="SAR">{sar(net)}</cbc:TaxableAmount>
            <cbc:TaxAmount currencyID="SAR">{sar(vat)}</cbc:TaxAmount>
            <cac:TaxCategory>
                <cbc:ID>S</cbc:ID>
                <cbc:Percent>15.00</cbc:Percent>
                <cac:TaxScheme>
                    <cbc:ID>VAT</cbc:ID>
                </cac:TaxScheme>
            </cac:TaxCategory>
        </cac:TaxSubtotal>
    </cac:TaxTotal>
    <cac:LegalMonetaryTotal>
        <cbc:LineExtensionAmount currencyID="SAR">{sar(net)}</cbc:LineExtensionAmount>
        <cbc:TaxExclusiveAmount currencyID="SAR">{sar(net)}</cbc:TaxExclusiveAmount>
        <cbc:TaxInclusiveAmount currencyID="SAR">{sar(gross)}</cbc:TaxInclusiveAmount>
        <cbc:PayableAmount currencyID="SAR">{sar(gross)}</cbc:PayableAmount>
    </cac:LegalMonetaryTotal>
    <cac:InvoiceLine>
        <cbc:ID>1</cbc:ID>
        <cbc:InvoicedQuantity unitCode="PCE">1.000000</cbc:InvoicedQuantity>
        <cbc:LineExtensionAmount currencyID="SAR">{sar(net)}</cbc:LineExtensionAmount>
        <cac:TaxTotal>
            <cbc:TaxAmount currencyID="SAR">{sar(vat)}</cbc:TaxAmount>
            <cbc:RoundingAmount currencyID="SAR">{sar(gross)}</cbc:RoundingAmount>
        </cac:TaxTotal>
        <cac:Item>
            <cbc:Name>{e(item)}</cbc:Name>
            <cac:ClassifiedTaxCategory>
                <cbc:ID>S</cbc:ID>
                <cbc:Percent>15.00</cbc:Percent>
                <cac:TaxScheme>
                    <cbc:ID>VAT</cbc:ID>
                </cac:TaxScheme>
            </cac:ClassifiedTaxCategory>
        </cac:Item>
        <cac:Price>
            <cbc:PriceAmount currencyID="SAR">{sar(net)}</cbc:PriceAmount>
        </cac:Price>
    </cac:InvoiceLine>
</Invoice>
"""
    return text.encode("utf-8")
