# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""The stamp: zatca-tools-sdk's XAdES signature on inv's UBL document, checked independently (cryptography, the
spec's hash recipe, the QR's TLV) and by the Fatoora fake's validator over real HTTP."""

from __future__ import annotations

import base64
import dataclasses
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone
from lxml import etree

from apps.invoicing.hashing import invoice_hash
from apps.invoicing.tests.zatca_fixtures import business, credential, fatoora, fatoora_server, seller_of  # noqa: F401
from apps.invoicing.zatca import crypto, samples
from apps.invoicing.zatca.client import FatooraClient
from apps.invoicing.zatca.fake.validation import decode_qr
from apps.invoicing.zatca.stamp import StampError, stamp_document

pytestmark = pytest.mark.django_db
DS = {"ds": "http://www.w3.org/2000/09/xmldsig#"}


def _document(business, **kwargs) -> tuple[str, bytes]:
    document_uuid = str(uuid.uuid4())
    fields = {"number": "INV-000001", "icv": 1, "net": 8700, "issued_at": timezone.now(), **kwargs}
    return document_uuid, samples.document(seller=seller_of(business), uuid=document_uuid, **fields)


def _report(fatoora, credential, stamped_xml: bytes, invoice_hash_: str, document_uuid: str):
    with FatooraClient(base_url=fatoora.api_url) as client:
        return client.report(
            token=credential.production_token,
            secret=credential.production_secret,
            invoice_hash=invoice_hash_,
            uuid=document_uuid,
            invoice_base64=base64.b64encode(stamped_xml).decode(),
        )


def test_the_stamp_verifies_independently_and_carries_qr_tags_1_to_9(fatoora, business, credential):
    _uuid, xml = _document(business)

    stamped = stamp_document(xml, credential=credential)

    assert stamped.invoice_hash == invoice_hash(stamped.xml)  # inv's recipe on the bytes we send
    root = etree.fromstring(stamped.xml)
    assert (
        root.xpath("string(//ds:Reference[@Id='invoiceSignedData']/ds:DigestValue)", namespaces=DS)
        == stamped.invoice_hash
    )
    signature = base64.b64decode(root.xpath("string(//ds:SignatureValue)", namespaces=DS))
    cert = crypto.load_certificate(credential.production_token)
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, base64.b64decode(stamped.invoice_hash), ec.ECDSA(hashes.SHA256()))  # raises if bad
    tags = decode_qr(stamped.qr)
    assert sorted(tags) == list(range(1, 10))
    assert tags[1] == "صالون مواعيد".encode()
    assert tags[2] == business.vat_number.encode()
    assert tags[6] == stamped.invoice_hash.encode()
    assert tags[8] == public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert tags[9] == cert.signature
    assert stamped.qr in stamped.xml.decode()  # the QR reference in the XML is the same TLV


def test_a_stamped_document_is_accepted_by_the_fakes_validator(fatoora, business, credential):
    document_uuid, xml = _document(business)
    stamped = stamp_document(xml, credential=credential)

    outcome = _report(fatoora, credential, stamped.xml, stamped.invoice_hash, document_uuid)

    assert outcome.kind == "reported"
    assert outcome.messages_of("ERROR", "WARNING") == []


def test_restamping_gives_the_same_hash_but_a_new_signature(business, credential, fatoora):
    _uuid, xml = _document(business)

    first, second = stamp_document(xml, credential=credential), stamp_document(xml, credential=credential)

    assert first.invoice_hash == second.invoice_hash
    assert first.xml != second.xml  # ECDSA signatures are randomized


def test_a_document_changed_after_stamping_is_rejected_for_its_hash_and_qr(fatoora, business, credential):
    document_uuid, xml = _document(business)
    stamped = stamp_document(xml, credential=credential)
    tampered = stamped.xml.replace(b"<cbc:Name>Haircut</cbc:Name>", b"<cbc:Name>Colour</cbc:Name>")

    outcome = _report(fatoora, credential, tampered, stamped.invoice_hash, document_uuid)

    assert outcome.kind == "rejected"
    assert {"invalid-invoice-hash", "signature"} <= {m.code for m in outcome.messages_of("ERROR")}


def test_a_document_under_another_vat_number_fails_certificate_permissions(fatoora, business, credential):
    document_uuid = str(uuid.uuid4())
    other = dataclasses.replace(seller_of(business), vat_number="311111111100003")
    xml = samples.document(seller=other, uuid=document_uuid, number="INV-1", icv=1, net=100, issued_at=timezone.now())
    stamped = stamp_document(xml, credential=credential)

    outcome = _report(fatoora, credential, stamped.xml, stamped.invoice_hash, document_uuid)

    assert [m.code for m in outcome.messages_of("ERROR")] == ["certificate-permissions"]


def test_a_credit_note_is_stamped_and_accepted(fatoora, business, credential):
    document_uuid, xml = _document(business, number="CRN-000001", credit_for="INV-000001", reason="Refund")
    stamped = stamp_document(xml, credential=credential)

    assert _report(fatoora, credential, stamped.xml, stamped.invoice_hash, document_uuid).kind == "reported"


def test_a_key_that_does_not_belong_to_the_certificate_is_refused(business, credential, fatoora):
    other_key = ec.generate_private_key(ec.SECP256K1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    wrong = dataclasses.make_dataclass("Wrong", ["signing_certificate", "private_key_pem"])(
        credential.signing_certificate, other_key.decode()
    )
    _uuid, xml = _document(business)

    with pytest.raises(StampError):
        stamp_document(xml, credential=wrong)


def test_the_csr_carries_zatcas_fields(settings):
    bundle = crypto.make_csr(
        environment="production",
        vat_number="310122393500003",
        organization_name="Mawid Salon",
        branch="Riyadh",
        egs_name="Mawid-salon",
        egs_serial="a1b2",
        location="Riyadh Olaya",
        industry="Salon",
    )

    csr = x509.load_pem_x509_csr(bundle.csr_pem.encode())
    assert isinstance(csr.public_key(), ec.EllipticCurvePublicKey)
    assert csr.public_key().curve.name == "secp256k1"
    subject = {a.oid: a.value for a in csr.subject}
    assert subject[x509.NameOID.COUNTRY_NAME] == "SA"
    assert subject[x509.NameOID.ORGANIZATION_NAME] == "Mawid Salon"
    assert subject[x509.NameOID.ORGANIZATIONAL_UNIT_NAME] == "Riyadh"
    assert subject[x509.NameOID.COMMON_NAME] == "Mawid-salon"
    (directory,) = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DirectoryName
    )
    values = {a.oid.dotted_string: a.value for a in directory}
    assert values["2.5.4.4"] == "1-Mawid|2-Django|3-a1b2"  # SN
    assert values["0.9.2342.19200300.100.1.1"] == "310122393500003"  # UID
    assert values["2.5.4.12"] == "0100"  # title: simplified only
    assert values["2.5.4.26"] == "Riyadh Olaya"  # registeredAddress
    assert values["2.5.4.15"] == "Salon"  # businessCategory
    template = csr.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")).value
    assert template.value == b"\x0c\x12ZATCA-Code-Signing"
    assert base64.b64decode(bundle.csr_base64).decode() == bundle.csr_pem
