"""`ZatcaCredential`: one business's EGS unit at ZATCA (shared/specs/zatca.md §2 "CSR and onboarding").

The private key (PEM) lives only here: it is never logged, never in an API answer, never in `repr()`, and the
admin does not show it. The compliance and production CSIDs are `(binarySecurityToken, secret)` pairs, the token
kept verbatim as ZATCA sends it (base64 of the base64-DER certificate).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Business, BusinessOwned

from .crypto import certificate_base64


class ZatcaCredential(BusinessOwned):
    class Environment(models.TextChoices):
        SANDBOX = "sandbox", _("Developer portal (sandbox)")
        SIMULATION = "simulation", _("Simulation")
        PRODUCTION = "production", _("Production")

    class Status(models.TextChoices):
        COMPLIANCE = "compliance", _("Compliance certificate issued; checks pending")
        ACTIVE = "active", _("Production certificate issued")

    business = models.OneToOneField(
        Business, on_delete=models.CASCADE, related_name="zatca_credential", verbose_name=_("business")
    )
    environment = models.CharField(_("environment"), max_length=10, choices=Environment.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.COMPLIANCE)
    egs_serial = models.CharField(_("EGS serial number"), max_length=120)
    private_key_pem = models.TextField(_("private key (PEM)"), editable=False)
    csr_pem = models.TextField(_("certificate signing request (PEM)"))
    compliance_request_id = models.CharField(_("compliance request id"), max_length=40, blank=True)
    compliance_token = models.TextField(_("compliance CSID token"), blank=True)
    compliance_secret = models.CharField(_("compliance CSID secret"), max_length=200, blank=True, editable=False)
    production_token = models.TextField(_("production CSID token"), blank=True)
    production_secret = models.CharField(_("production CSID secret"), max_length=200, blank=True, editable=False)
    request_id = models.CharField(_("production request id"), max_length=40, blank=True)
    certificate_expires_at = models.DateTimeField(_("certificate expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ZATCA credential")
        verbose_name_plural = _("ZATCA credentials")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="active") | ~models.Q(production_token=""),
                name="zatcacredential_active_has_production_csid",
            ),
        ]

    def __str__(self) -> str:
        return f"ZATCA {self.environment} credential of business {self.business_id} ({self.status})"

    def __repr__(self) -> str:  # never the key, the tokens or the secrets
        return f"<ZatcaCredential business={self.business_id} environment={self.environment} status={self.status}>"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE and bool(self.production_token)

    @property
    def signing_certificate(self) -> str:
        """The certificate documents are stamped with (base64 DER): the production CSID's, else the compliance one's."""
        return certificate_base64(self.production_token or self.compliance_token)
