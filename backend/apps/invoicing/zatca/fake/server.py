"""`FatooraFake`: the loopback Fatoora API (shared/specs/zatca.md §4). See the package docstring for the routes."""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.core.fakes import (
    CallLog,
    FaultQueue,
    LoopbackFake,
    Request,
    Response,
    html_response,
    json_response,
    run_until_signalled,
)

from .validation import VAT_RE, certificate_uid, msg, validate

PREFIXES = ("developer-portal", "simulation", "core")
ENDPOINTS = ("compliance", "compliance_invoices", "production_csids", "report")
FAULT_MODES = ("timeout", "error_500", "error_429", "ambiguous", "ambiguous_reset")
DEFAULT_OTPS = frozenset({"123345"})
VERSION_TEXT = "This Version is not supported or not provided in the header."
DUPLICATE_WINDOW = timedelta(hours=24)
_ROUTE = re.compile(r"^/e-invoicing/(?P<env>developer-portal|simulation|core)/(?P<path>.+?)/?$")


@dataclass
class Credential:
    token: str
    secret: str
    kind: str  # compliance | production
    cert: x509.Certificate
    request_id: str
    passed: set[str] = field(default_factory=set)  # compliance checks passed (type codes)
    title: str = ""


@dataclass
class Egs:
    vat: str
    serial: str
    last_icv: int | None = None
    last_hash: str = ""


def _san_attribute(cert_or_csr: x509.Certificate | x509.CertificateSigningRequest, oid: x509.ObjectIdentifier) -> str:
    try:
        san = cert_or_csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    for name in san.get_values_for_type(x509.DirectoryName):
        for attribute in name.get_attributes_for_oid(oid):
            return str(attribute.value)
    return ""


class FatooraFake(LoopbackFake):
    """The Fatoora fake. Thread-safe: state behind one lock (validation runs outside it)."""

    label = "Fatoora fake"
    server_version = "FatooraFake/1.0"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        otps: frozenset[str] = DEFAULT_OTPS,
        required_checks: tuple[str, ...] = ("388", "381"),
        strict_signature: bool = True,
        chain_errors: bool = False,
        duplicate_body: str = "errors",
        cert_days: int = 365,
    ) -> None:
        super().__init__(host=host, port=port)
        self._lock = threading.RLock()
        self.otps = set(otps)
        self.required_checks = tuple(required_checks)
        self.strict_signature = strict_signature
        self.chain_errors = chain_errors
        self.duplicate_body = duplicate_body  # "errors" (Duplicate-Invoice) | "message" (REPORTED_SUCCESSFULLY_EARLIER)
        self.cert_days = cert_days
        self.faults = FaultQueue(modes=FAULT_MODES, endpoints=ENDPOINTS)
        self.calls = CallLog()
        self._ca_key = ec.generate_private_key(ec.SECP256K1())
        self._ca_name = x509.Name(
            [
                x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "local"),
                x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "mawid"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Fake ZATCA Issuing CA"),
            ]
        )
        self._reset_state()

    def _reset_state(self) -> None:
        self._credentials: dict[str, Credential] = {}
        self._egs: dict[tuple[str, str], Egs] = {}
        self._documents: list[dict[str, Any]] = []
        self._reported: dict[str, datetime] = {}  # hash -> when it was REPORTED
        self._clock_offset = 0.0
        self._next_request_id = 1234567890123

    # --- controls ------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/e-invoicing/developer-portal"

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self._clock_offset, UTC)

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += float(seconds)

    def set_fault(self, mode: str, **kwargs: Any) -> None:
        self.faults.add(mode, **kwargs)

    def documents(self, vat: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(d) for d in self._documents if vat in (None, d["vat"])]

    def egs(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"vat": e.vat, "serial": e.serial, "last_icv": e.last_icv, "last_hash": e.last_hash}
                for e in self._egs.values()
            ]

    def reset(self) -> None:
        with self._lock:
            self._reset_state()
        self.faults.clear()
        self.calls.clear()

    # --- HTTP ----------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") == "/_fake" or request.path.startswith("/_fake/"):
            return self._control(request)
        match = _ROUTE.match(request.path)
        endpoint = None
        if match:
            endpoint = {
                ("POST", "compliance"): "compliance",
                ("POST", "compliance/invoices"): "compliance_invoices",
                ("POST", "production/csids"): "production_csids",
                ("PATCH", "production/csids"): "production_csids",
                ("POST", "invoices/reporting/single"): "report",
            }.get((request.method, match["path"]))
        if endpoint is None:
            return json_response(404, {"code": "Not-Found", "message": "No such resource"})
        entry = self.calls.record({"endpoint": endpoint, "method": request.method, "at": self.now().isoformat()})
        if request.headers.get("Accept-Version") != "V2":
            entry["status"] = 406
            return Response(406, VERSION_TEXT.encode(), content_type="text/plain")
        fault = self.faults.take(endpoint)
        if fault is not None and fault.mode in ("error_500", "error_429"):
            entry["status"] = 500 if fault.mode == "error_500" else 429
            if fault.mode == "error_429":
                return json_response(
                    429, {"code": "429", "message": "Too Many Requests"}, {"Retry-After": str(fault.retry_after or 1)}
                )
            return json_response(500, {"category": "HTTP-Errors", "code": "500", "message": "Something went wrong"})
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        response = self._route(endpoint, request, body)
        entry["status"] = response.status
        if fault is not None:
            if fault.mode == "timeout":
                self.pause(30.0 if fault.delay is None else fault.delay)
            elif fault.mode == "ambiguous":
                return html_response(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
            elif fault.mode == "ambiguous_reset":
                return Response(0, reset=True)
        return response

    def _route(self, endpoint: str, request: Request, body: Any) -> Response:
        if endpoint == "compliance":
            return self._compliance_csid(request, body)
        credential = self._authenticate(request)
        if credential is None:
            return self._unauthorized()
        if endpoint == "compliance_invoices":
            if credential.kind != "compliance":
                return self._unauthorized()
            return self._check(credential, body, reporting=False)
        if endpoint == "production_csids":
            if request.method == "PATCH":
                if credential.kind != "production":
                    return self._unauthorized()
                return self._renew(request, credential, body)
            if credential.kind != "compliance":
                return self._unauthorized()
            return self._production_csid(credential, body)
        if credential.kind != "production":
            return self._unauthorized()
        return self._check(credential, body, reporting=True)

    def _unauthorized(self) -> Response:
        return json_response(
            401,
            {"timestamp": int(self.now().timestamp() * 1000), "status": 401, "error": "Unauthorized", "message": ""},
        )

    def _authenticate(self, request: Request) -> Credential | None:
        header = request.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return None
        try:
            token, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        with self._lock:
            credential = self._credentials.get(token)
        if credential is None or not secrets.compare_digest(credential.secret, secret):
            return None
        if credential.cert.not_valid_after_utc < self.now():
            return None
        return credential

    # --- CSIDs ---------------------------------------------------------------------------------------------

    @staticmethod
    def _csid_error(code: str, message: str) -> Response:
        return json_response(400, {"errors": [{"code": code, "message": message}]})

    def _parse_csr(self, body: Any) -> x509.CertificateSigningRequest | Response:
        csr_b64 = body.get("csr") if isinstance(body, dict) else None
        if not csr_b64:
            return self._csid_error("Missing-CSR", "The CSR is missing")
        try:
            csr = x509.load_pem_x509_csr(base64.b64decode(csr_b64, validate=True))
        except ValueError:
            return self._csid_error("Invalid-CSR", "The CSR is not a PKCS#10 request in base64 PEM")
        key = csr.public_key()
        if (
            not isinstance(key, ec.EllipticCurvePublicKey)
            or key.curve.name != "secp256k1"
            or not csr.is_signature_valid
        ):
            return self._csid_error("Invalid-CSR", "The CSR must carry a secp256k1 key and a valid signature")
        if not VAT_RE.match(_san_attribute(csr, NameOID.USER_ID)):
            return self._csid_error("Invalid-CSR", "The CSR's UID must be a VAT number (15 digits, 3...3)")
        return csr

    def _otp_error(self, request: Request) -> Response | None:
        otp = request.headers.get("OTP")
        if not otp:
            return self._csid_error("Missing-OTP", "The OTP is missing")
        if otp not in self.otps:
            return self._csid_error("Invalid-OTP", "The provided OTP is invalid")
        return None

    def _issue(
        self,
        csr_or_cert: x509.CertificateSigningRequest | x509.Certificate,
        *,
        kind: str,
        request_id: str | None = None,
    ) -> Credential:
        now = self.now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr_or_cert.subject)
            .issuer_name(self._ca_name)
            .public_key(csr_or_cert.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=self.cert_days))
        )
        san = csr_or_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        der_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        with self._lock:
            if request_id is None:
                request_id = str(self._next_request_id)
                self._next_request_id += 1
            credential = Credential(
                token=base64.b64encode(der_b64.encode()).decode(),
                secret=secrets.token_urlsafe(32),
                kind=kind,
                cert=cert,
                request_id=request_id,
                title=_san_attribute(cert, NameOID.TITLE),
            )
            self._credentials[credential.token] = credential
        return credential

    @staticmethod
    def _csid_response(credential: Credential) -> Response:
        return json_response(
            200,
            {
                "requestID": int(credential.request_id),
                "dispositionMessage": "ISSUED",
                "binarySecurityToken": credential.token,
                "secret": credential.secret,
                "tokenType": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3",
                "errors": None,
            },
        )

    def _compliance_csid(self, request: Request, body: Any) -> Response:
        problem = self._otp_error(request)
        if problem is not None:
            return problem
        csr = self._parse_csr(body)
        if isinstance(csr, Response):
            return csr
        return self._csid_response(self._issue(csr, kind="compliance"))

    def _production_csid(self, credential: Credential, body: Any) -> Response:
        request_id = str(body.get("compliance_request_id") or "") if isinstance(body, dict) else ""
        if request_id != credential.request_id:
            return self._csid_error("Invalid-Request-ID", "The compliance_request_id does not match the certificate")
        missing = [t for t in self.required_checks if t not in credential.passed]
        if missing:
            return self._csid_error(
                "Missing-Compliance-Steps", f"Compliance checks not passed for: {', '.join(missing)}"
            )
        return self._csid_response(self._issue(credential.cert, kind="production"))

    def _renew(self, request: Request, credential: Credential, body: Any) -> Response:
        problem = self._otp_error(request)
        if problem is not None:
            return problem
        csr = self._parse_csr(body)
        if isinstance(csr, Response):
            return csr
        return self._csid_response(self._issue(csr, kind="production"))

    # --- compliance checks and reporting ------------------------------------------------------------------

    def _check(self, credential: Credential, body: Any, *, reporting: bool) -> Response:
        now = self.now()
        document_hash = body.get("invoiceHash") if isinstance(body, dict) else None
        if reporting and isinstance(document_hash, str):
            with self._lock:
                reported_at = self._reported.get(document_hash)
            if reported_at is not None and now - reported_at <= DUPLICATE_WINDOW:
                self._record(credential, body, None, "DUPLICATE", [], now)
                return self._duplicate()
        checked, _xml = validate(
            body=body, cert=credential.cert, now=now, reporting=reporting, strict_signature=self.strict_signature
        )
        if reporting and checked.icv is not None:
            self._chain(credential, checked, str(document_hash))
        passed = not checked.errors
        if not reporting and passed:
            with self._lock:
                credential.passed.add(checked.type_code)
        status = "ERROR" if checked.errors else "WARNING" if checked.warnings else "PASS"
        info = [
            msg(
                "INFO",
                "XSD_ZATCA_VALID",
                "Complied with UBL 2.1 standards in line with ZATCA specifications",
                "XSD validation",
            )
        ]
        code = 400 if checked.errors else 202 if checked.warnings else 200
        reporting_status = "NOT_REPORTED" if checked.errors else "REPORTED"
        if reporting:
            outcome = "REJECTED" if checked.errors else "REPORTED"
            self._record(credential, body, checked, outcome, checked.errors + checked.warnings, now)
            if passed:
                with self._lock:
                    self._reported[str(document_hash)] = now
            return json_response(
                code,
                {
                    "validationResults": {
                        "infoMessages": info,
                        "warningMessages": checked.warnings,
                        "errorMessages": checked.errors,
                        "status": status,
                    },
                    "reportingStatus": reporting_status,
                },
            )
        # The compliance endpoint's irregular body: infoMessages an object, the rest at the top level.
        return json_response(
            code,
            {
                "validationResults": None,
                "infoMessages": info[0],
                "warningMessages": checked.warnings,
                "errorMessages": checked.errors,
                "status": status,
                "reportingStatus": reporting_status,
                "clearanceStatus": None,
                "qrSellertStatus": None,
                "qrBuyertStatus": None,
            },
        )

    def _chain(self, credential: Credential, checked: Any, document_hash: str) -> None:
        serial = _san_attribute(credential.cert, NameOID.SURNAME)
        key = (certificate_uid(credential.cert), serial)
        with self._lock:
            egs = self._egs.setdefault(key, Egs(vat=key[0], serial=serial))
            add = checked.errors.append if self.chain_errors else checked.warnings.append
            kind = "ERROR" if self.chain_errors else "WARNING"
            if egs.last_icv is not None:
                if checked.icv != egs.last_icv + 1:
                    add(msg(kind, "invalid-icv", f"The ICV should be {egs.last_icv + 1}"))
                if checked.pih != egs.last_hash:
                    add(msg(kind, "invalid-pih", "The PIH is not the hash of the previous document"))
            egs.last_icv = checked.icv
            egs.last_hash = document_hash  # a rejected document stays in the chain

    def _duplicate(self) -> Response:
        if self.duplicate_body == "message":
            return json_response(
                409,
                {"message": "Invoice Hash Previously Submitted", "reportingStatus": "REPORTED_SUCCESSFULLY_EARLIER"},
            )
        return json_response(
            409,
            {
                "validationResults": {
                    "infoMessages": [],
                    "warningMessages": [],
                    "errorMessages": [
                        {
                            "type": "ERROR",
                            "code": "Invoice-Errors",
                            "category": "Duplicate-Invoice",
                            "message": "Invoice was already Reported successfully earlier.",
                            "status": "ERROR",
                        }
                    ],
                    "status": "ERROR",
                },
                "reportingStatus": "NOT_REPORTED",
            },
        )

    def _record(
        self,
        credential: Credential,
        body: Any,
        checked: Any,
        status: str,
        messages: list[dict[str, str]],
        now: datetime,
    ) -> None:
        with self._lock:
            self._documents.append(
                {
                    "hash": body.get("invoiceHash"),
                    "uuid": body.get("uuid"),
                    "vat": certificate_uid(credential.cert),
                    "icv": None if checked is None else checked.icv,
                    "status": status,
                    "messages": messages,
                    "at": now.isoformat(),
                }
            )

    # --- control routes -----------------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        try:
            data = json.loads(request.body or b"{}") if request.method == "POST" else {}
        except ValueError:
            return json_response(400, {"message": "The body must be JSON"})
        if not isinstance(data, dict):
            return json_response(400, {"message": "The body must be a JSON object"})
        if path == "/_fake":
            return json_response(200, {"routes": CONTROL_ROUTES})
        if path == "/_fake/documents":
            return json_response(200, {"documents": self.documents(request.q("vat"))})
        if path == "/_fake/egs":
            return json_response(200, {"egs": self.egs()})
        if path == "/_fake/calls":
            return json_response(200, {"calls": self.calls.entries(request.q("endpoint"))})
        if path == "/_fake/clock" and request.method == "POST":
            try:
                self.advance_clock(float(data.get("advance", 0)))
            except (TypeError, ValueError):
                return json_response(400, {"message": "advance must be seconds"})
            return json_response(200, {"now": self.now().isoformat()})
        if path == "/_fake/faults":
            if request.method == "POST":
                try:
                    self.faults.add(
                        str(data.get("mode")),
                        count=data.get("count", 1),
                        endpoint=data.get("endpoint"),
                        delay=data.get("delay"),
                        after=data.get("after", 0),
                    )
                except ValueError as exc:
                    return json_response(400, {"message": str(exc)})
            return json_response(200, {"faults": [vars(f) for f in self.faults.pending()]})
        if path == "/_fake/settings" and request.method == "POST":
            return self._settings(data)
        if path == "/_fake/reset" and request.method == "POST":
            self.reset()
            return json_response(200, {"reset": True})
        return json_response(404, {"message": "No such control route"})

    def _settings(self, data: dict[str, Any]) -> Response:
        with self._lock:
            if "otps" in data:
                self.otps = {str(o) for o in data["otps"]}
            if "required_checks" in data:
                self.required_checks = tuple(str(t) for t in data["required_checks"])
            if "signature" in data:
                self.strict_signature = data["signature"] != "lenient"
            if "chain" in data:
                self.chain_errors = data["chain"] == "error"
            if "duplicate_body" in data:
                self.duplicate_body = str(data["duplicate_body"])
        return json_response(
            200,
            {
                "otps": sorted(self.otps),
                "required_checks": list(self.required_checks),
                "signature": "strict" if self.strict_signature else "lenient",
                "chain": "error" if self.chain_errors else "warning",
                "duplicate_body": self.duplicate_body,
            },
        )


CONTROL_ROUTES = [
    "GET  /_fake                 this list",
    "GET  /_fake/documents?vat=  reported and checked documents (hash, ICV, status, messages)",
    "GET  /_fake/egs             per EGS: last ICV and hash",
    "GET  /_fake/calls[?endpoint=]  request log",
    "POST /_fake/clock           {advance: seconds}",
    "GET|POST /_fake/faults      {mode: timeout|error_500|error_429|ambiguous|ambiguous_reset|ok, endpoint?, count?, delay?, after?}",
    "POST /_fake/settings        {otps?, required_checks?, signature?: strict|lenient, chain?: warning|error, duplicate_body?: errors|message}",
    "POST /_fake/reset           forget everything but the CA",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.invoicing.zatca.fake", description="The Fatoora API fake.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--otp", action="append", help="an accepted OTP (repeatable; default 123345)")
    args = parser.parse_args(argv)
    otps = frozenset(args.otp) if args.otp else DEFAULT_OTPS
    return run_until_signalled(
        lambda: FatooraFake(host=args.host, port=args.port, otps=otps),
        name="fatoora-fake",
        banner=lambda fake: (
            f"Fatoora fake listening on {fake.base_url}\n  API: {fake.base_url}/e-invoicing/{{developer-portal,simulation,core}}\n  controls: {fake.base_url}/_fake"
        ),
    )
