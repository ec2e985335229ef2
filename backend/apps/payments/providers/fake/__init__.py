"""A local fake of Moyasar's payments API for development and tests (stdlib only, no Django).

It speaks Moyasar's protocol under `/v1` (see shared/specs/moyasar.md, "What a faithful local fake of this
provider must do") and adds a control surface under `/_fake/` that the real provider does not have.

    fake = MoyasarFake(webhook_url="http://127.0.0.1:8000/api/v1/webhooks/moyasar")
    fake.start()            # or: with MoyasarFake() as fake: ...
    client = MoyasarClient(base_url=fake.api_url, secret_key=fake.secret_key)

Run standalone (from `backend/`): `python -m apps.payments.providers.fake --port 8102`. It refuses to start in
production (`MAWID_ENV=production`, or production Django settings: `apps.core.fakes.production_refusal`).

The package: `cards` (test cards, validation, amounts, the 3-D Secure page), `http` (Moyasar's error and request
bodies), `webhooks` (the sender thread), `api` (`MoyasarApi`: `/v1` and the payment state), `control`
(`MoyasarFake`: the controls below and `main()`). The server, fault queue, call log, production guard and
command-line loop are `apps.core.fakes`, shared with the Authentica fake.

Behaviour, in short:

* Auth: HTTP Basic with the secret key (every operation) or the publishable key (create payment, create token;
  403 elsewhere). Anything else: 401 `authentication_error`.
* Validation: 400 `invalid_request_error` with an `errors` map (`amount`, `currency`, `source.type`,
  `callback_url`, `given_id`, `source.number`, ...). `given_id` becomes the payment id; reusing it is
  400 `used_given_id`.
* Outcomes: Moyasar's test cards (`TEST_CARDS`), unlisted card numbers fail (201 `failed`, `INVALID CARD`/14);
  Apple Pay by amount (20000-30000 paid, 110100-120000 insufficient funds, else failed), its `source.company` and
  last four from the wallet token's `paymentMethod` (`network`, `displayName`; Visa 1111 when unreadable); STC Pay
  mobiles `0515555555`-`0515555559` fail (`STC_PAY_TEST_MOBILES`), others are `initiated` until the OTP
  (`otp_value`, no API key needed) is sent to `source.transaction_url`: `123456`/`000000` paid, `111111`
  insufficient balance, `222222`-`444444` other refusals (`STC_PAY_TEST_OTPS`), other OTPs fail as "Invalid OTP"
  (Moyasar's STC Pay sandbox). Declines are 201 with `status: failed` and `source.message` /
  `source.response_code`.
* 3-D Secure (`3ds`, default true, for `creditcard` and `token` sources): `initiated` with
  `source.transaction_url` = `{base}/_fake/3ds/{id}`. A GET there shows an approve/reject page;
  `?result=approve|reject` moves the payment on (approve: `paid`, `authorized` when `manual`, or the card's
  decline; reject: `failed`) and 302-redirects to `callback_url?id=&status=&message=`. With `3ds: false` the
  final state is immediate. A card declined by the issuer is declined after the challenge, as with Moyasar.
  Card `4111116611600661` (not enrolled) fails at once, `4111115784228433` fails at the challenge.
* Tokens: `POST /v1/tokens` (card fields, `callback_url`, `save_only`, `metadata`) -> `token_<hex>`; by default
  `initiated` with a `verification_url` (`{base}/_fake/3ds/{token}`) whose approval makes it `active`
  (`inactive` for a declining card or a rejected challenge); `save_only: true` -> `active` at once.
  `GET`/`DELETE /v1/tokens/{id}` with the secret key. Card numbers stay inside the fake; every response, the
  request log and webhooks carry masked numbers only. A payment with a `token` source reports
  `source.type: "creditcard"` with `source.token` set; `save_card: true` attaches a new token likewise.
* State machine: capture only from `authorized`, amount <= authorized, once (a second capture is a 400), and not
  after the hold expired (`hold_seconds`, judged by the injectable clock; the payment stays `authorized`);
  partial capture releases the rest. Void from `authorized`/`paid`/`captured` unless settled
  (`POST /_fake/payments/{id}/settle`, or `settle_after` seconds after payment when set). Refund from
  `paid`/`captured`, cumulative <= the paid/captured amount (excess: 400). **The status becomes `refunded` after
  any refund, partial or full, and further partial refunds stay allowed up to the total.** `captured` is only
  set by a capture (0 for a plain `paid` payment). Fields `*_at`, `*_format` (`"150.00 SAR"`) stay consistent.
* Fetch (404 `api_error` for unknown ids), list (`page`, `status`, `metadata[key]`, `created[gt|lt]`; newest
  first; `meta` with `current_page`, `next_page`, `prev_page`, `total_pages`, `total_count`), update
  (`description`/`metadata`; answers 200 with the payment).
* Webhooks: every transition (`payment_paid`, `payment_failed`, `payment_authorized`, `payment_captured`,
  `payment_refunded`, `payment_voided`) POSTs `{id, type, created_at, secret_token, account_name, live: false,
  data}` to `webhook_url` from a background thread; non-2xx and connection errors are retried after each of
  `webhook_retry_delays` (the event `id` is stable across retries); every attempt is recorded. Modes:
  `normal`, `duplicate` (each event `duplicates` times), `out_of_order` (events are held and sent in reverse
  order on `flush_webhooks()` / `POST /_fake/webhooks/flush`, or `window` seconds after the first held one),
  `wrong_secret`. No webhooks while `webhook_url` is None.
* Faults (`set_fault` / `POST /_fake/faults`), per endpoint (`create`, `fetch`, `list`, `update`, `capture`,
  `void`, `refund`, `token`, `stcpay`, or `all`) for the next `count` calls (null, or -1: until cleared),
  optionally after letting `after` calls through: `timeout` (sleep `delay`, default 25 s, then act and answer),
  `reset` (drop the connection, nothing done), `error_500` (JSON), `error_503_html`, `error_429` (`rate_limit_error`,
  `Retry-After: delay or 1`), `ambiguous_create` / `ambiguous` (act, then answer 500, or with `delay`: sleep,
  then answer as usual - the client has timed out by then), `ok` (clears; for one endpoint when given).
* Browsers (CORS): a request with an `Origin` may only create a payment or a token (with a preflight); the
  answer carries `Access-Control-Allow-Origin`. The secret key from a browser, or any other route, is 403.
  `/_fake/mpf/moyasar.js` is the payment form (`Moyasar.init`, card only) that posts there and then opens the
  3-D Secure page.
* Clock: `clock` (epoch seconds) is injectable and `advance_clock()` shifts it.

Control routes (no auth; loopback only):

    GET  /_fake                              this list
    GET  /_fake/payments                     {"payments": [...]} all payments, newest first (with "_fake" state)
    GET  /_fake/payments/{id}
    POST /_fake/payments/{id}/settle         mark settled (void refused afterwards)
    POST /_fake/payments/{id}/status         {"status", "message"?, "response_code"?, "event"?: true}
    POST /_fake/payments/{id}/events         {"type"?} fire a webhook with the current payment
    GET  /_fake/3ds/{id}[?result=approve|reject]   3-D Secure page for payments and tokens
    GET  /_fake/mpf/moyasar.js, moyasar.css  the payment form: `Moyasar.init({...})`, like Moyasar's (`mpf/`)
    GET  /_fake/tokens                       {"tokens": [...]} (masked)
    GET|POST /_fake/faults                   {"mode", "count"?, "endpoint"?, "delay"?, "after"?}
    GET|POST /_fake/webhooks                 {"url"?, "secret"?, "mode"?, "duplicates"?, "window"?}
    POST /_fake/webhooks/flush               send held (out_of_order) events now, reversed
    GET  /_fake/webhooks/attempts            every delivery attempt
    GET  /_fake/calls[?endpoint=create]      request log (card data masked)
    POST /_fake/clock                        {"advance": seconds}
    POST /_fake/reset                        forget payments, tokens, calls, attempts, faults, clock offset
"""

from __future__ import annotations

from apps.core.fakes import MAX_LOG_ENTRIES

from .api import (
    DEFAULT_PUBLISHABLE_KEY,
    DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_SECRET,
    ENDPOINTS,
    EVENT_FOR_STATUS,
    FAULT_MODES,
    STATUSES,
    MoyasarApi,
)
from .cards import TEST_CARDS, CardBehaviour, card_behaviour, format_amount
from .control import CONTROL_ROUTES, MoyasarFake, main
from .webhooks import WEBHOOK_MODES

__all__ = [
    "CONTROL_ROUTES",
    "DEFAULT_PUBLISHABLE_KEY",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_WEBHOOK_SECRET",
    "ENDPOINTS",
    "EVENT_FOR_STATUS",
    "FAULT_MODES",
    "MAX_LOG_ENTRIES",
    "STATUSES",
    "TEST_CARDS",
    "WEBHOOK_MODES",
    "CardBehaviour",
    "MoyasarApi",
    "MoyasarFake",
    "card_behaviour",
    "format_amount",
    "main",
]
