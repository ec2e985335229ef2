"""A local fake of ZATCA's Fatoora API (shared/specs/zatca.md §4) for development and tests (no Django).

    with FatooraFake() as fake:
        client = FatooraClient(base_url=fake.api_url)      # .../e-invoicing/developer-portal

Run standalone (from `backend/`): `python -m apps.invoicing.zatca.fake --port 8103`; `python3 dev.py run` starts
it. It refuses to start in production (`apps.core.fakes.production_refusal`).

Behaviour:

* Paths `/e-invoicing/{developer-portal,simulation,core}/...`: `POST compliance`, `POST compliance/invoices`,
  `POST|PATCH production/csids`, `POST invoices/reporting/single`. Without `Accept-Version: V2`: 406 text.
  Bad Basic auth (or a compliance token where a production one is needed, or an expired certificate): the 401
  JSON.
* Its own secp256k1 CA, made at start. `/compliance` checks the OTP header (`otps`, default `123345`:
  `Missing-OTP`, `Invalid-OTP`) and the CSR (`Missing-CSR`, `Invalid-CSR` unless PKCS#10 with a secp256k1 key
  and a SAN UID like `3…3`), and issues a certificate for the CSR's key, subject and SAN: token =
  base64(base64(DER)), a random secret, a `requestID`. `POST production/csids` needs the compliance token, the
  matching `compliance_request_id` and passed checks for `required_checks` (default 388 and 381); it issues the
  production certificate for the same key. `PATCH` (production token + OTP + CSR) renews.
* Validation (`validation.py`), for compliance checks and reports: body fields, base64, XML; ProfileID, type code
  and `@name`; UUID = body uuid; SAR; IssueDate not in the future (Riyadh); ICV digits; PIH present; the seller
  VAT valid and equal to the certificate's UID (`certificate-permissions`); 4-digit building number, 5-digit
  postal code; half-up line arithmetic (errors) and BR-CO-17 (warning); notes' BillingReference and
  InstructionNote; the recomputed hash = `invoiceHash` (`invalid-invoice-hash`) = the signature's digest; QR tags
  1–7 against the XML, 8–9 against the certificate; the ECDSA signature (`strict_signature`, else a warning);
  per EGS (certificate UID + SN) ICV = last + 1 and PIH = last hash (warning, or errors with `chain_errors`;
  a rejected document stays in the chain); reported over 24 h after issue: BR-KSA-98 warning. 200 PASS /
  202 WARNING / 400 ERROR; the compliance endpoint answers with its irregular top-level shape.
* A hash REPORTED within 24 h (fake clock) → 409 (`duplicate_body`: `errors` or `message`). A hash earlier
  rejected is validated again.
* Faults (`set_fault`, `POST /_fake/faults`) per endpoint (compliance, compliance_invoices, production_csids,
  report): `timeout` (act, then sleep `delay`, default 30 s, then answer), `error_500`, `error_429` (nothing
  done), `ambiguous` (act, then an HTML 504), `ambiguous_reset` (act, then drop the connection), `ok` clears.
"""

from __future__ import annotations

from .server import CONTROL_ROUTES, DEFAULT_OTPS, ENDPOINTS, FAULT_MODES, FatooraFake, main

__all__ = ["CONTROL_ROUTES", "DEFAULT_OTPS", "ENDPOINTS", "FAULT_MODES", "FatooraFake", "main"]
