"""A small client of the WhatsApp Business Cloud API (Meta Graph API; /work/shared/specs/whatsapp.md): send a
template message, send a free-form text inside the 24-hour window. httpx with separate connect/read timeouts.

Errors are decided on Meta's `error.code` (not the HTTP status, not the title):
- `WhatsAppRateLimited` (4, 80007, 130429, 131056, or HTTP 429): refused before processing; `retry_after` seconds;
- `WhatsAppUnavailable` (1, 2, 131000, 131016, 133004, 131057, 5xx, timeouts, connection errors): `maybe_sent`
  when the request may have been processed (a read timeout, 131000, 5xx);
- `WhatsAppRejected` (everything else: auth 190/10, parameters 100/132000/132001, undeliverable 131026,
  template paused/disabled 132015/132016, window closed 131047): retrying does not help.
The access token is only ever in the Authorization header: never in a message, a log line or an exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

logger = logging.getLogger("mawid.notifications")

RATE_LIMITED = frozenset({4, 80007, 130429, 131056})
UNAVAILABLE_NOT_PROCESSED = frozenset({1, 2, 131016, 133004, 131057})
UNAVAILABLE_MAYBE_PROCESSED = frozenset({131000})
# Undeliverable over WhatsApp: the message should go by SMS instead.
FALL_BACK_TO_SMS = frozenset({131026, 131047, 131050, 132015, 132016})


class WhatsAppError(Exception):
    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class WhatsAppRateLimited(WhatsAppError):
    def __init__(self, message: str, *, code: int | None, status: int | None, retry_after: float) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class WhatsAppUnavailable(WhatsAppError):
    def __init__(self, message: str, *, code: int | None = None, status: int | None = None, maybe_sent: bool) -> None:
        super().__init__(message, code=code, status=status)
        self.maybe_sent = maybe_sent


class WhatsAppRejected(WhatsAppError):
    pass


@dataclass(frozen=True)
class Sent:
    wamid: str
    wa_id: str
    message_status: str


class WhatsAppClient:
    def __init__(
        self,
        *,
        base_url: str | None = None,
        version: str | None = None,
        phone_number_id: str | None = None,
        token: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.base_url = (base_url or settings.WHATSAPP_BASE_URL).rstrip("/")
        self.version = version or settings.WHATSAPP_GRAPH_VERSION
        self.phone_number_id = phone_number_id or settings.WHATSAPP_PHONE_NUMBER_ID
        connect = connect_timeout if connect_timeout is not None else settings.WHATSAPP_CONNECT_TIMEOUT
        read = read_timeout if read_timeout is not None else settings.WHATSAPP_READ_TIMEOUT
        self._http = httpx.Client(
            timeout=httpx.Timeout(read, connect=connect),
            headers={"Authorization": f"Bearer {token or settings.WHATSAPP_ACCESS_TOKEN}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WhatsAppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/messages"

    def send_template(
        self,
        *,
        to: str,
        name: str,
        language: str,
        params: tuple[str, ...] | list[str],
        button_payloads: tuple[str, ...] | list[str] = (),
        callback_data: str = "",
    ) -> Sent:
        components: list[dict[str, Any]] = []
        if params:
            components.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in params]})
        for index, payload in enumerate(button_payloads):
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": payload}],
                }
            )
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digits(to),
            "type": "template",
            "template": {"name": name, "language": {"code": language}, "components": components},
        }
        if callback_data:
            body["biz_opaque_callback_data"] = callback_data
        return self._post(body)

    def send_text(self, *, to: str, text: str) -> Sent:
        """A free-form text: only delivered inside the 24-hour window (else 131047)."""
        return self._post({"messaging_product": "whatsapp", "to": digits(to), "type": "text", "text": {"body": text}})

    def _post(self, body: dict[str, Any]) -> Sent:
        try:
            response = self._http.post(self.messages_url, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise WhatsAppUnavailable(f"cannot connect: {type(exc).__name__}", maybe_sent=False) from exc
        except httpx.TimeoutException as exc:
            raise WhatsAppUnavailable(f"no answer in time: {type(exc).__name__}", maybe_sent=True) from exc
        except httpx.TransportError as exc:
            raise WhatsAppUnavailable(f"connection trouble: {type(exc).__name__}", maybe_sent=True) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and isinstance(data, dict) and data.get("messages"):
            message = data["messages"][0]
            contacts = data.get("contacts") or [{}]
            return Sent(
                wamid=str(message.get("id", "")),
                wa_id=str(contacts[0].get("wa_id", "")),
                message_status=str(message.get("message_status", "")),
            )
        raise _error(response, data)


def _error(response: httpx.Response, data: Any) -> WhatsAppError:
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    status = response.status_code
    details = ((error.get("error_data") or {}).get("details") or "")[:200] if isinstance(error, dict) else ""
    text = f"WhatsApp {status} code {code}: {str(error.get('message', ''))[:200]} {details}".strip()
    if status == 429 or code in RATE_LIMITED:
        wait = _retry_after(response)
        default = 6 if code == 131056 else settings.WHATSAPP_RATE_LIMIT_WAIT_SECONDS
        return WhatsAppRateLimited(text, code=code, status=status, retry_after=wait if wait is not None else default)
    if code in UNAVAILABLE_NOT_PROCESSED:
        return WhatsAppUnavailable(text, code=code, status=status, maybe_sent=False)
    if code in UNAVAILABLE_MAYBE_PROCESSED or status >= 500:
        return WhatsAppUnavailable(text, code=code, status=status, maybe_sent=status != 503)
    return WhatsAppRejected(text, code=code, status=status)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def digits(phone: str) -> str:
    """A phone number as WhatsApp's `to` and `wa_id`: international digits without `+` (Saudi `05…`, `5…` and
    `009665…` normalised to `9665…`)."""
    d = "".join(ch for ch in str(phone) if ch.isdigit())
    if d.startswith("00"):
        d = d[2:]
    if d.startswith("05") and len(d) == 10:
        d = "966" + d[1:]
    elif d.startswith("5") and len(d) == 9:
        d = "966" + d
    return d
