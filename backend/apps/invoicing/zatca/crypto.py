"""Keys, the certificate signing request and certificates for one business's EGS unit (shared/specs/zatca.md §2
"CSR and onboarding").

The key pair and CSR come from `zatca-tools-sdk` (`zatca_tools.csr.generate_csr`): secp256k1, subject
`C=SA, OU=<branch>, O=<taxpayer>, CN=<EGS name>`, a SAN `dirName` with `SN=1-Mawid|2-<model>|3-<serial>`,
`UID=<VAT number>`, `title=0100` (simplified documents only), `registeredAddress`, `businessCategory`, and the
certificate-template extension (OID 1.3.6.1.4.1.311.20.2) naming the environment.

Environments (setting `ZATCA_ENVIRONMENT`): `sandbox` (the developer portal, template `TSTZATCA-Code-Signing`:
sources differ with `PREZATCA-`, UNCERTAIN; the SDK's choice is kept), `simulation` (`PREZATCA-Code-Signing`),
`production` (`ZATCA-Code-Signing`).

The private key is PEM text (PKCS#8, unencrypted) that only `ZatcaCredential.private_key_pem` holds: never log it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from cryptography import x509
from zatca_tools.csr import CsrRequest, generate_csr
from zatca_tools.environment import Environment
from zatca_tools.errors import ValidationError as SdkValidationError

ENVIRONMENTS: tuple[str, ...] = ("sandbox", "simulation", "production")
#: The Fatoora API's path under `/e-invoicing/` per environment.
API_PATHS: dict[str, str] = {"sandbox": "developer-portal", "simulation": "simulation", "production": "core"}
SIMPLIFIED_ONLY = "0100"
SOLUTION_NAME = "Mawid"
MODEL = "Django"
_FORBIDDEN = re.compile(r"[!@#$%&*_<=]")  # characters ZATCA refuses in the CSR's fields


class CsrInvalid(ValueError):
    """The business's details cannot make a valid CSR (the message names the fields)."""


@dataclass(frozen=True, slots=True)
class CsrBundle:
    csr_pem: str
    private_key_pem: str = field(repr=False)
    egs_serial_number: str

    @property
    def csr_base64(self) -> str:
        """What `/compliance` takes: base64 of the PEM text."""
        return base64.b64encode(self.csr_pem.encode()).decode()


def csr_template(environment: str) -> str:
    return Environment.parse(environment).csr_template


def clean_field(value: str, *, limit: int = 64) -> str:
    """A name as the CSR can carry it: characters ZATCA refuses replaced by a space, trimmed to `limit`."""
    return " ".join(_FORBIDDEN.sub(" ", value).split())[:limit]


def make_csr(
    *,
    environment: str,
    vat_number: str,
    organization_name: str,
    branch: str,
    egs_name: str,
    egs_serial: str,
    location: str,
    industry: str,
) -> CsrBundle:
    """A new secp256k1 key pair and its CSR for a simplified-only EGS unit. `CsrInvalid` for bad details."""
    request = CsrRequest(
        vat_number=vat_number,
        organization_name=clean_field(organization_name),
        organization_unit=clean_field(branch),
        location=clean_field(location),
        industry=clean_field(industry),
        invoice_types=SIMPLIFIED_ONLY,
        solution_name=SOLUTION_NAME,
        model=MODEL,
        serial=egs_serial,
        common_name=clean_field(egs_name),
    )
    try:
        pair = generate_csr(request, Environment.parse(environment))
    except SdkValidationError as exc:
        raise CsrInvalid(str(exc)) from exc
    return CsrBundle(csr_pem=pair.csr, private_key_pem=pair.private_key, egs_serial_number=pair.egs_serial_number)


def certificate_base64(binary_security_token: str) -> str:
    """The certificate as one base64-DER line: a `binarySecurityToken` is base64 of that text."""
    return base64.b64decode(binary_security_token).decode("ascii").strip()


def load_certificate(binary_security_token: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(certificate_base64(binary_security_token)))
