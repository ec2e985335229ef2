"""Onboarding a business's EGS unit with ZATCA (shared/specs/zatca.md §2 "CSR and onboarding", §3).

`zatca_onboard(business=..., otp=...)`:
1. a new secp256k1 key and CSR (`crypto.make_csr`, template name per `ZATCA_ENVIRONMENT`);
2. `POST /compliance` with the OTP → the compliance CSID, stored at once (with the key) in its own transaction;
3. the compliance checks for type `0100`: a sample simplified invoice and a sample simplified credit note,
   stamped with the compliance certificate (`samples`, `stamp`); both must pass;
4. `POST /production/csids` → the production CSID, stored (status `active`, certificate expiry, request id).

Provider calls run outside any transaction; a refusal raises `ZatcaOnboardingRefused` with ZATCA's codes (e.g.
`Invalid-OTP`), an unknown outcome `ProviderUnavailable`. Running it again starts over with a new key (the last
compliance CSID is replaced); an already active credential is replaced only through `renew=True` (PATCH, with the
production CSID).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Business
from apps.core.errors import DomainError, ProviderUnavailable, ValidationFailed
from apps.invoicing.constants import FIRST_PIH

from . import crypto, samples
from .port import CsidResult, Fatoora, FatooraError, FatooraUnavailable, ValidationOutcome
from .stamp import stamp_document


class ZatcaOnboardingRefused(DomainError):
    code, status, message = "zatca_onboarding_refused", 400, _("ZATCA refused the onboarding request.")


class ZatcaNotReady(DomainError):
    code, status, message = (
        "zatca_not_ready",
        400,
        _("The business needs a VAT number and a tax profile (legal name and address) before onboarding."),
    )


def get_fatoora() -> Fatoora:
    """The configured Fatoora client (`ZATCA_CLIENT_CLASS`, the httpx client by default)."""
    client: Fatoora = import_string(settings.ZATCA_CLIENT_CLASS)(
        base_url=settings.ZATCA_BASE_URL,
        language=settings.ZATCA_LANGUAGE,
        connect_timeout=settings.ZATCA_CONNECT_TIMEOUT,
        read_timeout=settings.ZATCA_READ_TIMEOUT,
    )
    return client


@dataclass(frozen=True, slots=True)
class _Signer:
    signing_certificate: str
    private_key_pem: str = field(repr=False)


def _refused(exc: FatooraError, step: str) -> DomainError:
    if isinstance(exc, FatooraUnavailable):
        return ProviderUnavailable()
    detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in exc.errors) or str(exc)
    return ZatcaOnboardingRefused(
        message=_("ZATCA refused the onboarding (%(step)s): %(detail)s") % {"step": step, "detail": detail},
        fields={"zatca": exc.codes or [str(exc.status_code)]},
    )


def _seller(business: Business) -> Any:
    from apps.invoicing.models import TaxProfile

    profile = TaxProfile.objects.filter(business=business).first()
    if not business.vat_number or profile is None:
        raise ZatcaNotReady()
    return profile


def _csr(business: Business, profile: Any, environment: str) -> crypto.CsrBundle:
    return crypto.make_csr(
        environment=environment,
        vat_number=business.vat_number,
        organization_name=profile.legal_name_en or business.name_en,
        branch=profile.city,
        egs_name=f"Mawid-{business.slug}",
        egs_serial=str(uuid.uuid4()),
        location=f"{profile.city} {profile.district}",
        industry=str(business.get_category_display()),
    )


def zatca_onboard(
    *, business: Business, otp: str, fatoora: Fatoora | None = None, renew: bool = False
) -> Any:  # ZatcaCredential
    from apps.invoicing.models import ZatcaCredential

    profile = _seller(business)
    environment = settings.ZATCA_ENVIRONMENT
    existing = ZatcaCredential.objects.filter(business=business).first()
    try:
        bundle = _csr(business, profile, environment)
    except crypto.CsrInvalid as exc:
        raise ValidationFailed(fields={"csr": [str(exc)]}) from exc
    client = fatoora or get_fatoora()
    try:
        if renew and existing is not None and existing.is_active:
            return _renew(existing, bundle, otp, client)
        try:
            compliance = client.compliance_csid(csr_base64=bundle.csr_base64, otp=otp)
        except FatooraError as exc:
            raise _refused(exc, "compliance CSID") from exc
        with transaction.atomic():
            credential, _created = ZatcaCredential.objects.select_for_update().update_or_create(
                business=business,
                defaults={
                    "environment": environment,
                    "status": ZatcaCredential.Status.COMPLIANCE,
                    "egs_serial": bundle.egs_serial_number,
                    "private_key_pem": bundle.private_key_pem,
                    "csr_pem": bundle.csr_pem,
                    "compliance_request_id": compliance.request_id,
                    "compliance_token": compliance.binary_security_token,
                    "compliance_secret": compliance.secret,
                    "production_token": "",
                    "production_secret": "",
                    "request_id": "",
                    "certificate_expires_at": None,
                },
            )
        _compliance_checks(credential, profile, business, client, compliance)
        try:
            production = client.production_csid(
                token=compliance.binary_security_token,
                secret=compliance.secret,
                compliance_request_id=compliance.request_id,
            )
        except FatooraError as exc:
            raise _refused(exc, "production CSID") from exc
        _store_production(credential, production)
        return credential
    finally:
        if fatoora is None:
            client.close()


def _compliance_checks(
    credential: Any, profile: Any, business: Business, client: Fatoora, compliance: CsidResult
) -> None:
    signer = _Signer(crypto.certificate_base64(compliance.binary_security_token), credential.private_key_pem)
    seller = samples.seller(
        name=profile.legal_name_ar,
        vat_number=business.vat_number,
        cr_number=profile.cr_number,
        street=profile.street,
        building_number=profile.building_number,
        additional_number=profile.additional_number,
        district=profile.district,
        city=profile.city,
        postal_code=profile.postal_code,
    )
    now = timezone.now()
    pih = FIRST_PIH
    documents = [
        {"number": "SME00001", "icv": 1, "net": 10000},
        {"number": "SME00002", "icv": 2, "net": 10000, "credit_for": "SME00001", "reason": "Compliance check: refund"},
    ]
    for spec in documents:
        document_uuid = str(uuid.uuid4())
        xml = samples.document(seller=seller, uuid=document_uuid, issued_at=now, pih=pih, **spec)  # type: ignore[arg-type]
        stamped = stamp_document(xml, credential=signer, signing_time=now)
        pih = stamped.invoice_hash
        try:
            outcome: ValidationOutcome = client.compliance_check(
                token=compliance.binary_security_token,
                secret=compliance.secret,
                invoice_hash=stamped.invoice_hash,
                uuid=document_uuid,
                invoice_base64=base64.b64encode(stamped.xml).decode(),
            )
        except FatooraError as exc:
            raise _refused(exc, "compliance check") from exc
        if not outcome.accepted:
            errors = outcome.messages_of("ERROR")
            raise ZatcaOnboardingRefused(
                message=_("ZATCA's compliance check failed: %(detail)s")
                % {"detail": "; ".join(f"{m.code}: {m.message}" for m in errors)},
                fields={"zatca": [m.code for m in errors]},
            )


def _store_production(credential: Any, production: CsidResult, bundle: crypto.CsrBundle | None = None) -> None:
    """Store the production CSID (and, for a renewal, the new key it was issued for) in one transaction."""
    from apps.invoicing.models import ZatcaCredential

    expires = crypto.load_certificate(production.binary_security_token).not_valid_after_utc
    with transaction.atomic():
        locked = ZatcaCredential.objects.select_for_update().get(pk=credential.pk)
        if bundle is not None:
            locked.private_key_pem = bundle.private_key_pem
            locked.csr_pem = bundle.csr_pem
            locked.egs_serial = bundle.egs_serial_number
        locked.production_token = production.binary_security_token
        locked.production_secret = production.secret
        locked.request_id = production.request_id
        locked.certificate_expires_at = expires
        locked.status = ZatcaCredential.Status.ACTIVE
        locked.save()
    credential.refresh_from_db()


def _renew(credential: Any, bundle: crypto.CsrBundle, otp: str, client: Fatoora) -> Any:
    try:
        production = client.renew_production_csid(
            token=credential.production_token,
            secret=credential.production_secret,
            csr_base64=bundle.csr_base64,
            otp=otp,
        )
    except FatooraError as exc:
        raise _refused(exc, "renewal") from exc
    _store_production(credential, production, bundle)
    return credential
