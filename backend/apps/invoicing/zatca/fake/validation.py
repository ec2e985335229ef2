"""The Fatoora fake's document checks (shared/specs/zatca.md §4.4), shared by compliance and reporting.

`validate(...)` returns the messages a real validator would give, as dicts `{type, code, category, message,
status}`. Independent of `zatca-tools-sdk`: the hash is the spec's recipe (`.._hashing`), the signature is
verified with `cryptography`, the QR is decoded here, the arithmetic is recomputed with Decimal half-up. So a
document our stamp produced passes only if the library and the spec agree.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from .._hashing import FIRST_PIH, NS, invoice_hash, parse

RIYADH = ZoneInfo("Asia/Riyadh")
DS = "http://www.w3.org/2000/09/xmldsig#"
NSX = {**NS, "ds": DS}
VAT_RE = re.compile(r"^3\d{13}3$")
NAME_RE = re.compile(r"^02[01][01]0[01]0$")
CENT = Decimal("0.01")


def msg(kind: str, code: str, message: str, category: str = "KSA") -> dict[str, str]:
    status = {"ERROR": "ERROR", "WARNING": "WARNING"}.get(kind, "PASS")
    return {"type": kind, "code": code, "category": category, "message": message, "status": status}


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Checked:
    """What validation found, and the facts the fake keeps about the document."""

    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    icv: int | None = None
    pih: str = ""
    vat: str = ""
    type_code: str = ""
    uuid: str = ""

    def error(self, code: str, message: str, category: str = "KSA") -> None:
        self.errors.append(msg("ERROR", code, message, category))

    def warn(self, code: str, message: str, category: str = "KSA") -> None:
        self.warnings.append(msg("WARNING", code, message, category))


def certificate_uid(cert: x509.Certificate) -> str:
    """The VAT number (UID) in the certificate's SAN dirName, or ""."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    for name in san.get_values_for_type(x509.DirectoryName):
        for attribute in name.get_attributes_for_oid(x509.NameOID.USER_ID):
            return str(attribute.value)
    return ""


def decode_qr(qr: str) -> dict[int, bytes]:
    raw = base64.b64decode(qr, validate=True)
    fields: dict[int, bytes] = {}
    i = 0
    while i + 2 <= len(raw):
        tag, length = raw[i], raw[i + 1]
        value = raw[i + 2 : i + 2 + length]
        if len(value) != length:
            raise ValueError("truncated QR field")
        fields[tag] = value
        i += 2 + length
    return fields


def _t(root: etree._Element, path: str) -> str:
    return str(root.xpath(f"string({path})", namespaces=NSX)).strip()


def _amount(root: etree._Element, path: str, checked: Checked) -> Decimal | None:
    text = _t(root, path)
    try:
        return Decimal(text)
    except InvalidOperation:
        checked.error("BR-KSA-F-13", f"{path} is missing or not a number", "KSA")
        return None


def validate(
    *,
    body: Any,
    cert: x509.Certificate,
    now: datetime,
    reporting: bool,
    strict_signature: bool = True,
) -> tuple[Checked, bytes | None]:
    """Check one request body; returns the findings and the document bytes (None when they did not decode)."""
    checked = Checked()
    if not isinstance(body, dict):
        checked.error("Invalid-Request", "The body must be a JSON object", "HTTP-Errors")
        return checked, None
    for name in ("invoiceHash", "uuid", "invoice"):
        if not isinstance(body.get(name), str) or not body.get(name):
            checked.error(f"Missing-{name}", f"{name} is required", "Request")
    if checked.errors:
        return checked, None
    try:
        xml = base64.b64decode(body["invoice"], validate=True)
        root = parse(xml)
    except (binascii.Error, ValueError, etree.XMLSyntaxError):
        checked.error("XSD_ZATCA_INVALID", "The invoice is not base64 of a well-formed XML document", "XSD validation")
        return checked, None
    if etree.QName(root).localname != "Invoice" or etree.QName(root).namespace != NS["inv"]:
        checked.error("XSD_ZATCA_INVALID", "The document is not a UBL 2.1 Invoice", "XSD validation")
        return checked, xml

    # Header fields
    if _t(root, "cbc:ProfileID") != "reporting:1.0":
        checked.error("BR-KSA-EN16931-01", "ProfileID must be reporting:1.0")
    code = _t(root, "cbc:InvoiceTypeCode")
    name = _t(root, "cbc:InvoiceTypeCode/@name")
    checked.type_code = code
    if code not in ("388", "381", "383"):
        checked.error("BR-KSA-05", "InvoiceTypeCode must be 388, 381 or 383")
    if not NAME_RE.match(name):
        if reporting and name.startswith("01"):
            checked.error("invoiceTypeCode", "A standard invoice cannot be reported; it must be cleared")
        else:
            checked.error("BR-KSA-31", "InvoiceTypeCode/@name must be 02P N0S0 for a simplified document")
    checked.uuid = _t(root, "cbc:UUID")
    if checked.uuid != body["uuid"]:
        checked.error("invalid-uuid", "The document's UUID does not match the request's uuid")
    if _t(root, "cbc:DocumentCurrencyCode") != "SAR" or _t(root, "cbc:TaxCurrencyCode") != "SAR":
        checked.error("BR-KSA-68", "The currencies must be SAR")
    issue = _issue_moment(root, checked)
    if issue is not None:
        if issue.astimezone(RIYADH).date() > now.astimezone(RIYADH).date():
            checked.error("BR-KSA-04", "The issue date must not be in the future")
        elif now - issue > timedelta(hours=24) and reporting:
            checked.warn("BR-KSA-98", "The simplified document was reported more than 24 hours after its issue")
    icv = _t(root, "cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID")
    if not icv.isdigit():
        checked.error("BR-KSA-33", "The ICV must be digits")
    else:
        checked.icv = int(icv)
    checked.pih = _t(
        root, "cac:AdditionalDocumentReference[cbc:ID='PIH']/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"
    )
    if not checked.pih:
        checked.error("BR-KSA-26", "The PIH must be present")

    # Seller
    party = "cac:AccountingSupplierParty/cac:Party"
    vat = _t(root, f"{party}/cac:PartyTaxScheme/cbc:CompanyID")
    checked.vat = vat
    if not VAT_RE.match(vat):
        checked.error("BR-KSA-40", "The seller's VAT number must be 15 digits starting and ending with 3")
    elif vat != certificate_uid(cert):
        checked.error(
            "certificate-permissions", "The seller's VAT number does not match the certificate", "Certificate"
        )
    if not re.fullmatch(r"\d{4}", _t(root, f"{party}/cac:PostalAddress/cbc:BuildingNumber")):
        checked.error("BR-KSA-37", "The seller's building number must have 4 digits")
    if not re.fullmatch(r"\d{5}", _t(root, f"{party}/cac:PostalAddress/cbc:PostalZone")):
        checked.error("BR-KSA-66", "The seller's postal code must have 5 digits")
    if not _t(root, f"{party}/cac:PartyLegalEntity/cbc:RegistrationName"):
        checked.error("BR-06", "The seller's name must be present")

    # Notes
    if code in ("381", "383"):
        if not _t(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"):
            checked.error("BR-KSA-56", "A credit or debit note must reference the original invoice")
        if not _t(root, "cac:PaymentMeans/cbc:InstructionNote"):
            checked.error("BR-KSA-17", "A credit or debit note must give the reason in InstructionNote")

    _arithmetic(root, checked)

    # Hash, QR, signature
    computed = invoice_hash(xml)
    if computed != body["invoiceHash"]:
        checked.error("invalid-invoice-hash", "The invoice hash does not match the document", "Hash")
    digest = _t(root, "//ds:Reference[@Id='invoiceSignedData']/ds:DigestValue")
    if digest != computed:
        checked.error(
            "invalid-signed-digest", "The signature's invoice digest does not match the document", "Signature"
        )
    signature_b64 = _t(root, "//ds:SignatureValue")
    _check_signature(computed, signature_b64, root, cert, checked, strict=strict_signature)
    _check_qr(root, computed, signature_b64, cert, checked)
    return checked, xml


def _issue_moment(root: etree._Element, checked: Checked) -> datetime | None:
    day, time = _t(root, "cbc:IssueDate"), _t(root, "cbc:IssueTime")
    try:
        if time.endswith("Z"):
            return datetime.fromisoformat(f"{day}T{time[:-1]}").replace(tzinfo=UTC)
        return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=RIYADH)
    except ValueError:
        checked.error("BR-KSA-F-01", "IssueDate and IssueTime must be a date and a time")
        return None


def _arithmetic(root: etree._Element, checked: Checked) -> None:
    line_sum = Decimal(0)
    for line in root.xpath("cac:InvoiceLine", namespaces=NSX):
        line_id = _t(line, "cbc:ID")
        qty = _amount(line, "cbc:InvoicedQuantity", checked)
        price = _amount(line, "cac:Price/cbc:PriceAmount", checked)
        net = _amount(line, "cbc:LineExtensionAmount", checked)
        vat = _amount(line, "cac:TaxTotal/cbc:TaxAmount", checked)
        rounding = _amount(line, "cac:TaxTotal/cbc:RoundingAmount", checked)
        percent = _amount(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", checked)
        if qty is None or price is None or net is None or vat is None or rounding is None or percent is None:
            return
        if half_up(qty * price) != net:
            checked.error("BR-KSA-EN16931-11", f"Line {line_id}: the net amount is not quantity x price")
        if half_up(net * percent / 100) != vat:
            checked.error("BR-KSA-50", f"Line {line_id}: the VAT amount is not net x rate, half up")
        if net + vat != rounding:
            checked.error("BR-KSA-51", f"Line {line_id}: RoundingAmount is not net + VAT")
        line_sum += net
    total = "cac:LegalMonetaryTotal"
    line_ext = _amount(root, f"{total}/cbc:LineExtensionAmount", checked)
    exclusive = _amount(root, f"{total}/cbc:TaxExclusiveAmount", checked)
    inclusive = _amount(root, f"{total}/cbc:TaxInclusiveAmount", checked)
    payable = _amount(root, f"{total}/cbc:PayableAmount", checked)
    tax_amounts = [Decimal(str(t)) for t in root.xpath("cac:TaxTotal/cbc:TaxAmount/text()", namespaces=NSX)]
    if line_ext is None or exclusive is None or inclusive is None or payable is None or not tax_amounts:
        checked.error("BR-KSA-F-13", "The document totals are incomplete")
        return
    if line_ext != line_sum:
        checked.error("BR-CO-10", "LineExtensionAmount is not the sum of the lines")
    if exclusive != line_ext:
        checked.error("BR-CO-13", "TaxExclusiveAmount is not the lines' sum")
    if len(set(tax_amounts)) != 1:
        checked.error("BR-KSA-EN16931-08", "The two TaxTotal amounts differ")
    tax = tax_amounts[0]
    if inclusive != exclusive + tax:
        checked.error("BR-CO-15", "TaxInclusiveAmount is not TaxExclusiveAmount + VAT")
    if payable != inclusive:
        checked.error("BR-CO-16", "PayableAmount is not TaxInclusiveAmount")
    for sub in root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NSX):
        taxable = Decimal(_t(sub, "cbc:TaxableAmount") or "0")
        sub_tax = Decimal(_t(sub, "cbc:TaxAmount") or "0")
        percent = Decimal(_t(sub, "cac:TaxCategory/cbc:Percent") or "0")
        if half_up(taxable * percent / 100) != sub_tax:
            checked.warn("BR-CO-17", "The category's VAT is not taxable amount x rate, rounded once")


def _check_signature(
    computed: str, signature_b64: str, root: etree._Element, cert: x509.Certificate, checked: Checked, *, strict: bool
) -> None:
    problem = ""
    embedded = re.sub(r"\s+", "", _t(root, "//ds:X509Certificate"))
    own = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    if embedded != own:
        problem = "The document's certificate is not the caller's certificate"
    else:
        key = cert.public_key()
        try:
            assert isinstance(key, ec.EllipticCurvePublicKey)  # noqa: S101 - the fake issues EC certificates only
            key.verify(base64.b64decode(signature_b64), base64.b64decode(computed), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, binascii.Error, ValueError):
            problem = "The ECDSA signature does not verify over the invoice hash"
    if problem:
        if strict:
            checked.error("signature", problem, "Signature")
        else:
            checked.warn("signature", problem, "Signature")


def _check_qr(
    root: etree._Element, computed: str, signature_b64: str, cert: x509.Certificate, checked: Checked
) -> None:
    qr = _t(root, "cac:AdditionalDocumentReference[cbc:ID='QR']/cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
    try:
        fields = decode_qr(qr)
    except (binascii.Error, ValueError):
        checked.error("QRCODE_INVALID", "The QR code is missing or not base64 TLV", "QR")
        return
    party = "cac:AccountingSupplierParty/cac:Party"
    expected_text = {
        1: _t(root, f"{party}/cac:PartyLegalEntity/cbc:RegistrationName"),
        2: _t(root, f"{party}/cac:PartyTaxScheme/cbc:CompanyID"),
        3: f"{_t(root, 'cbc:IssueDate')}T{_t(root, 'cbc:IssueTime')}",
        4: _t(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        5: _t(root, "cac:TaxTotal[1]/cbc:TaxAmount"),
        6: computed,
        7: signature_b64,
    }
    for tag, value in expected_text.items():
        if fields.get(tag) != value.encode("utf-8"):
            code = "invoiceHash_QRCODE_INVALID" if tag == 6 else "QRCODE_INVALID"
            checked.error(code, f"QR tag {tag} does not match the document", "QR")
    key_der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if fields.get(8) != key_der:
        checked.error("QRCODE_INVALID", "QR tag 8 is not the certificate's public key", "QR")
    if fields.get(9) != cert.signature:
        checked.error("QRCODE_INVALID", "QR tag 9 is not the certificate's signature", "QR")


def first_pih() -> str:
    return FIRST_PIH
