"""The cryptographic stamp (shared/specs/zatca.md §2 "Cryptographic stamp", "QR tags 6–9").

`stamp_document(xml, credential=...)` takes inv's unsigned UBL document (apps/invoicing/ubl.py: the spec's
element order, prefixes `ext:`/`cac:`/`cbc:`, QR tags 1–5 or none) and returns the bytes to store and send, the
invoice hash (the API's `invoiceHash`, the next document's PIH) and the QR (tags 1–9).

The XAdES-B-B signature itself is `zatca-tools-sdk`'s (`zatca_tools.signing.signer.sign`, pinned 0.1.3): its
SignedProperties text, the hex-then-base64 digests and the certificate digest are the quirks the spec says not to
hand-roll. The SDK signs documents it rendered itself, with three placeholders where the UBL extensions, the QR
reference and `cac:Signature` go; this module turns our document into that shape (each part replaced by a
placeholder on its own line, so that the whitespace the hash keeps is the same before and after) and builds the
few values the SDK reads from its own payload (seller name, VAT number, date and time, the two totals) from our
XML. The hash is then recomputed from the signed bytes with the spec's recipe and must agree (`StampError`
otherwise): the SDK and our hashing are checked against each other on every document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lxml import etree
from zatca_tools.document import ubl as sdk_ubl
from zatca_tools.errors import SigningError
from zatca_tools.signing import signer as sdk_signer
from zatca_tools.signing.certificate import SigningIdentity

from . import _hashing
from ._hashing import NS


class StampError(Exception):
    """The document cannot be stamped (unreadable XML, missing fields, key and certificate do not match)."""


class SigningCredential(Protocol):
    """What signing needs: the certificate (base64 DER text) and its private key (PEM). `ZatcaCredential` is one."""

    @property
    def signing_certificate(self) -> str: ...

    @property
    def private_key_pem(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Stamped:
    xml: bytes
    invoice_hash: str
    qr: str


_EXTENSIONS_RE = re.compile(r"[ \t]*<ext:UBLExtensions\b.*?</ext:UBLExtensions>|[ \t]*<ext:UBLExtensions\s*/>", re.S)
_QR_RE = re.compile(
    r"[ \t]*<cac:AdditionalDocumentReference>\s*<cbc:ID>QR</cbc:ID>.*?</cac:AdditionalDocumentReference>", re.S
)
_SIGNATURE_RE = re.compile(r"[ \t]*<cac:Signature>.*?</cac:Signature>", re.S)
_ROOT_OPEN_RE = re.compile(r"<Invoice\b[^>]*>")


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _insert_line_before(text: str, marker: str, placeholder: str) -> str:
    at = text.find(marker)
    if at < 0:
        raise StampError(f"the document has no {marker.strip('<')}")
    start = _line_start(text, at)
    return text[:start] + placeholder + "\n" + text[start:]


def to_sdk_form(text: str) -> str:
    """Our document with the SDK's three placeholders where the signed parts go (replacing any already there)."""
    if _EXTENSIONS_RE.search(text):
        text = _EXTENSIONS_RE.sub(lambda _: sdk_ubl.UBL_EXTENSIONS, text, count=1)
    else:
        root = _ROOT_OPEN_RE.search(text)
        if root is None:
            raise StampError("the document is not a UBL <Invoice> with the default namespace")
        text = text[: root.end()] + "\n" + sdk_ubl.UBL_EXTENSIONS + text[root.end() :]
    if _QR_RE.search(text):
        text = _QR_RE.sub(lambda _: sdk_ubl.QR, text, count=1)
    else:
        text = _insert_line_before(
            text, "<cac:Signature>" if "<cac:Signature>" in text else "<cac:AccountingSupplierParty>", sdk_ubl.QR
        )
    if _SIGNATURE_RE.search(text):
        text = _SIGNATURE_RE.sub(lambda _: sdk_ubl.SIGNATURE, text, count=1)
    else:
        text = _insert_line_before(text, "<cac:AccountingSupplierParty>", sdk_ubl.SIGNATURE)
    return text


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(f"string({path})", namespaces=NS)
    value = str(found).strip()
    if not value:
        raise StampError(f"the document has no {path}")
    return value


def payload_from_xml(root: etree._Element) -> dict[str, Any]:
    """The few fields `zatca_tools.signing.signer.sign` reads from its payload, taken from our XML."""
    name = root.xpath("string(cbc:InvoiceTypeCode/@name)", namespaces=NS)
    party = "cac:AccountingSupplierParty/cac:Party"
    return {
        "supplier": {
            "registrationName": _text(root, f"{party}/cac:PartyLegalEntity/cbc:RegistrationName"),
            "taxId": _text(root, f"{party}/cac:PartyTaxScheme/cbc:CompanyID"),
        },
        "issueDate": _text(root, "cbc:IssueDate"),
        "issueTime": _text(root, "cbc:IssueTime"),
        "legalMonetaryTotal": {
            "taxInclusiveAmount": float(_text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"))
        },
        # The first TaxTotal (without subtotals) carries the document's VAT in SAR.
        "taxTotal": {"taxAmount": float(_text(root, "cac:TaxTotal[1]/cbc:TaxAmount"))},
        "invoiceType": {"invoice": "simplified" if str(name).startswith("02") else "standard"},
    }


def stamp_document(xml: bytes, *, credential: SigningCredential, signing_time: datetime | None = None) -> Stamped:
    """Sign `xml` (UTF-8 bytes) with the credential's key; QR tags 1–9. `signing_time` defaults to now."""
    try:
        root = _hashing.parse(xml)
    except etree.XMLSyntaxError as exc:
        raise StampError(f"the document is not well-formed XML: {exc}") from exc
    payload = payload_from_xml(root)
    try:
        identity = SigningIdentity.load(credential.signing_certificate, credential.private_key_pem, strict=True)
    except SigningError as exc:
        raise StampError(str(exc)) from exc
    rendered = to_sdk_form(xml.decode("utf-8"))
    signed = sdk_signer.sign(rendered, payload, identity, signing_time)
    out = signed.xml.encode("utf-8")
    if _hashing.invoice_hash(out) != signed.hash:  # the SDK and the spec's recipe must agree on every document
        raise StampError("the signed document's hash does not match the signature's digest")
    return Stamped(xml=out, invoice_hash=signed.hash, qr=signed.qr)


def production_credential(business_id: int) -> SigningCredential | None:
    """The business's active production credential, or None (inv's issue service stamps only with one)."""
    from apps.invoicing.models import ZatcaCredential

    credential: SigningCredential | None = (
        ZatcaCredential.objects.filter(business_id=business_id, status=ZatcaCredential.Status.ACTIVE)
        .exclude(production_token="")
        .first()
    )
    return credential
