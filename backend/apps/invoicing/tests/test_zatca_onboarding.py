# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""Onboarding over real HTTP against the Fatoora fake: CSR → compliance CSID → compliance checks → production CSID."""

from __future__ import annotations

import base64
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command

from apps.core.errors import ValidationFailed
from apps.invoicing.models import ZatcaCredential
from apps.invoicing.tests.factories import vat_business
from apps.invoicing.tests.zatca_fixtures import OTP, business, credential, fatoora, fatoora_server  # noqa: F401
from apps.invoicing.zatca import crypto
from apps.invoicing.zatca.client import FatooraClient
from apps.invoicing.zatca.onboarding import ZatcaNotReady, ZatcaOnboardingRefused, zatca_onboard
from apps.invoicing.zatca.port import FatooraRequestError

pytestmark = pytest.mark.django_db


def test_a_good_otp_gives_an_active_credential_whose_certificate_carries_the_vat_number(fatoora, business):
    credential = zatca_onboard(business=business, otp=OTP)

    credential.refresh_from_db()
    assert credential.status == ZatcaCredential.Status.ACTIVE
    assert credential.environment == "sandbox"
    cert = crypto.load_certificate(credential.production_token)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    (directory,) = san.get_values_for_type(x509.DirectoryName)
    assert directory.get_attributes_for_oid(x509.NameOID.USER_ID)[0].value == business.vat_number
    assert directory.get_attributes_for_oid(x509.NameOID.TITLE)[0].value == "0100"
    assert credential.certificate_expires_at == cert.not_valid_after_utc
    csr = x509.load_pem_x509_csr(credential.csr_pem.encode())
    template = csr.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")).value
    assert b"TSTZATCA-Code-Signing" in template.value
    # the compliance checks ran: a simplified invoice and a credit note, both passed
    calls = fatoora.calls.entries("compliance_invoices")
    assert [c["status"] for c in calls] == [200, 200]
    # the private key never shows in repr or str
    assert "PRIVATE" not in repr(credential)
    assert "PRIVATE" not in str(credential)


def test_a_wrong_otp_is_refused_with_invalid_otp_and_stores_nothing(fatoora, business):
    with pytest.raises(ZatcaOnboardingRefused) as caught:
        zatca_onboard(business=business, otp="999999")

    assert caught.value.fields == {"zatca": ["Invalid-OTP"]}
    assert not ZatcaCredential.objects.filter(business=business).exists()


def test_an_invalid_vat_number_never_reaches_zatca(fatoora, business):
    business.vat_number = "300000000000000"  # ends with 0: not a VAT number
    with pytest.raises(ValidationFailed):
        zatca_onboard(business=business, otp=OTP)

    assert fatoora.calls.entries() == []


def _csr_base64(uid: str) -> str:
    key = ec.generate_private_key(ec.SECP256K1())
    directory = x509.Name(
        [x509.NameAttribute(x509.NameOID.USER_ID, uid), x509.NameAttribute(x509.NameOID.TITLE, "0100")]
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "egs")]))
        .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(directory)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


def test_the_fake_refuses_a_csr_whose_uid_is_not_a_vat_number(fatoora):
    with FatooraClient(base_url=fatoora.api_url) as client:
        with pytest.raises(FatooraRequestError) as caught:
            client.compliance_csid(csr_base64=_csr_base64("123"), otp=OTP)
        assert caught.value.codes == ["Invalid-CSR"]
        with pytest.raises(FatooraRequestError) as caught:
            client.compliance_csid(csr_base64=_csr_base64("310122393500003"), otp="")
        assert caught.value.codes == ["Missing-OTP"]
        assert client.compliance_csid(csr_base64=_csr_base64("310122393500003"), otp=OTP).disposition == "ISSUED"


def test_a_business_without_a_tax_profile_is_not_ready(fatoora):
    business = vat_business(profile=False)

    with pytest.raises(ZatcaNotReady):
        zatca_onboard(business=business, otp=OTP)


def test_production_csid_needs_the_required_compliance_checks(fatoora, business):
    fatoora.required_checks = ("388", "381", "383")  # a debit note that onboarding does not send
    try:
        with pytest.raises(ZatcaOnboardingRefused) as caught:
            zatca_onboard(business=business, otp=OTP)
    finally:
        fatoora.required_checks = ("388", "381")

    assert caught.value.fields == {"zatca": ["Missing-Compliance-Steps"]}
    assert ZatcaCredential.objects.get(business=business).status == ZatcaCredential.Status.COMPLIANCE


def test_renewal_replaces_the_key_and_the_production_certificate(fatoora, credential):
    old_key, old_token = credential.private_key_pem, credential.production_token

    renewed = zatca_onboard(business=credential.business, otp=OTP, renew=True)

    renewed.refresh_from_db()
    assert renewed.private_key_pem != old_key
    assert renewed.production_token != old_token
    assert renewed.status == ZatcaCredential.Status.ACTIVE


def test_the_management_command_onboards_a_business_by_slug(fatoora, business):
    out = io.StringIO()
    call_command("zatca_onboard", "--business", business.slug, "--otp", OTP, stdout=out)

    assert "credential active" in out.getvalue()
    assert "PRIVATE" not in out.getvalue()
    with pytest.raises(CommandError, match="zatca_onboarding_refused"):
        call_command("zatca_onboard", "--business", business.slug, "--otp", "000000", stdout=out)
