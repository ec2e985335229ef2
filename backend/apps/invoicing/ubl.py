"""The UBL 2.1 XML of a simplified tax invoice (388) or credit note (381), children of `<Invoice>` in the order of
shared/specs/zatca.md §2. Built with lxml from plain values; amounts are integer halalas written with 2 decimals.

The document is built unsigned: no `ext:UBLExtensions` (the XAdES stamp, `apps.invoicing.zatca.stamp`, inserts it
as the first child); `cac:Signature` is always present (it only names the signature's profile, and the hash
removes it with the extensions). Empty elements are never written (BR-KSA-F-03), except the empty customer
party that B2C practice sends.

Times are Riyadh's (AST, no zone suffix): `IssueDate` is the Riyadh day, so it is never "in the future" to ZATCA
(BR-KSA-04), and the QR's timestamp is `IssueDate` + "T" + `IssueTime` exactly as here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from apps.invoicing.constants import SIMPLIFIED_NAME

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
NSMAP = {None: NS_INVOICE, "cac": NS_CAC, "cbc": NS_CBC, "ext": NS_EXT}
RIYADH = ZoneInfo("Asia/Riyadh")
CURRENCY = "SAR"


@dataclass(frozen=True, slots=True)
class Seller:
    name: str  # RegistrationName (the Arabic legal name): QR tag 1
    vat_number: str
    cr_number: str = ""
    street: str = ""
    building_number: str = ""
    additional_number: str = ""
    district: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = "SA"


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    net: int  # halalas, quantity 1
    vat: int
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class Document:
    number: str
    uuid: str
    issued_at: datetime  # aware
    type_code: str  # "388" or "381"
    icv: int
    previous_hash: str
    seller: Seller
    means_code: str  # "48" card, "10" cash
    net: int
    vat: int
    rate_bps: int
    lines: list[Line] = field(default_factory=list)
    original_number: str = ""  # credit notes: BillingReference
    reason: str = ""  # credit notes: PaymentMeans/InstructionNote

    @property
    def gross(self) -> int:
        return self.net + self.vat

    @property
    def issue_date(self) -> str:
        return self.issued_at.astimezone(RIYADH).strftime("%Y-%m-%d")

    @property
    def issue_time(self) -> str:
        return self.issued_at.astimezone(RIYADH).strftime("%H:%M:%S")

    @property
    def timestamp(self) -> str:
        """QR tag 3: IssueDate + 'T' + IssueTime, as in the XML."""
        return f"{self.issue_date}T{self.issue_time}"


def amount(halalas: int) -> str:
    return f"{halalas // 100}.{halalas % 100:02d}"


def percent(rate_bps: int) -> str:
    return f"{rate_bps // 100}.{rate_bps % 100:02d}"


def _cbc(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS_CBC}}}{tag}", attrs)
    element.text = text
    return element


def _cac(parent: etree._Element, tag: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS_CAC}}}{tag}")


def _money(parent: etree._Element, tag: str, halalas: int) -> etree._Element:
    return _cbc(parent, tag, amount(halalas), currencyID=CURRENCY)


def _tax_category(parent: etree._Element, tag: str, rate_bps: int) -> None:
    category = _cac(parent, tag)
    _cbc(category, "ID", "S")
    _cbc(category, "Percent", percent(rate_bps))
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _attachment(root: etree._Element, ref_id: str, text: str) -> None:
    reference = _cac(root, "AdditionalDocumentReference")
    _cbc(reference, "ID", ref_id)
    attachment = _cac(reference, "Attachment")
    _cbc(attachment, "EmbeddedDocumentBinaryObject", text, mimeCode="text/plain")


def _supplier(root: etree._Element, seller: Seller) -> None:
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    if seller.cr_number:
        _cbc(_cac(party, "PartyIdentification"), "ID", seller.cr_number, schemeID="CRN")
    address = _cac(party, "PostalAddress")
    for tag, value in (
        ("StreetName", seller.street),
        ("BuildingNumber", seller.building_number),
        ("PlotIdentification", seller.additional_number),
        ("CitySubdivisionName", seller.district),
        ("CityName", seller.city),
        ("PostalZone", seller.postal_code),
    ):
        if value:
            _cbc(address, tag, value)
    _cbc(_cac(address, "Country"), "IdentificationCode", seller.country)
    tax_scheme = _cac(party, "PartyTaxScheme")
    _cbc(tax_scheme, "CompanyID", seller.vat_number)
    _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    _cbc(_cac(party, "PartyLegalEntity"), "RegistrationName", seller.name)


def build(document: Document, *, qr: str = "") -> bytes:
    """The document's XML bytes (UTF-8, with its declaration, indented). `qr` empty: the QR reference carries a
    placeholder (the hash does not cover it; the issue service builds twice: to hash, then with the QR)."""
    if document.type_code not in ("388", "381"):
        raise ValueError(f"unsupported document type {document.type_code}")
    if document.type_code == "381" and not (document.original_number and document.reason):
        raise ValueError("a credit note names its original invoice and a reason")
    root = etree.Element(f"{{{NS_INVOICE}}}Invoice", nsmap=NSMAP)
    _cbc(root, "ProfileID", "reporting:1.0")
    _cbc(root, "ID", document.number)
    _cbc(root, "UUID", document.uuid)
    _cbc(root, "IssueDate", document.issue_date)
    _cbc(root, "IssueTime", document.issue_time)
    _cbc(root, "InvoiceTypeCode", document.type_code, name=SIMPLIFIED_NAME)
    _cbc(root, "DocumentCurrencyCode", CURRENCY)
    _cbc(root, "TaxCurrencyCode", CURRENCY)
    if document.original_number:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", document.original_number)
    icv = _cac(root, "AdditionalDocumentReference")
    _cbc(icv, "ID", "ICV")
    _cbc(icv, "UUID", str(document.icv))
    _attachment(root, "PIH", document.previous_hash)
    _attachment(root, "QR", qr or "QR")
    signature = _cac(root, "Signature")
    _cbc(signature, "ID", "urn:oasis:names:specification:ubl:signature:Invoice")
    _cbc(signature, "SignatureMethod", "urn:oasis:names:specification:ubl:dsig:enveloped:xades")
    _supplier(root, document.seller)
    _cac(_cac(root, "AccountingCustomerParty"), "Party")
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", document.means_code)
    if document.reason:
        _cbc(means, "InstructionNote", document.reason)

    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", document.vat)
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", document.vat)
    subtotal = _cac(tax_total, "TaxSubtotal")
    _money(subtotal, "TaxableAmount", document.net)
    _money(subtotal, "TaxAmount", document.vat)
    _tax_category(subtotal, "TaxCategory", document.rate_bps)

    totals = _cac(root, "LegalMonetaryTotal")
    _money(totals, "LineExtensionAmount", document.net)
    _money(totals, "TaxExclusiveAmount", document.net)
    _money(totals, "TaxInclusiveAmount", document.gross)
    _money(totals, "PayableAmount", document.gross)

    for index, line in enumerate(document.lines, start=1):
        element = _cac(root, "InvoiceLine")
        _cbc(element, "ID", str(index))
        _cbc(element, "InvoicedQuantity", str(line.quantity), unitCode="PCE")
        _money(element, "LineExtensionAmount", line.net)
        line_tax = _cac(element, "TaxTotal")
        _money(line_tax, "TaxAmount", line.vat)
        _money(line_tax, "RoundingAmount", line.net + line.vat)
        item = _cac(element, "Item")
        _cbc(item, "Name", line.name)
        _tax_category(item, "ClassifiedTaxCategory", document.rate_bps)
        _money(_cac(element, "Price"), "PriceAmount", line.net // line.quantity)

    etree.indent(root, space="    ")
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return xml + b"\n"
