"""Email through Django's email framework: any SMTP service by settings (MAWID_EMAIL_*), or, when no SMTP host is
configured, the file backend writing every message to MAWID_EMAIL_CATCHER_DIR (`python manage.py mailbox`)."""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape

from apps.notifications.channels.base import ChannelRejected, ChannelUnavailable, Delivery, Message


class EmailChannel:
    name = "email"
    # Every attempt carries the same Message-ID (from the notification's reference), so a copy sent after an
    # attempt whose outcome is unknown is the same message to mail servers and clients, not a new one.
    duplicate_safe = True

    def opted_in(self, user: Any) -> bool:
        return bool(getattr(user, "notify_email", False))

    def address(self, user: Any) -> str | None:
        return getattr(user, "email", None) or None

    def send(self, *, to: str, message: Message) -> Delivery:
        message_id = f"<{message.reference}@{_domain()}>"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
            headers={
                "Message-ID": message_id,
                "Content-Language": message.language,
                "Auto-Submitted": "auto-generated",
            },
            connection=get_connection(fail_silently=False),
        )
        email.attach_alternative(_html(message), "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelRejected("SMTPRecipientsRefused: the server refused the recipient") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelRejected(f"SMTPAuthenticationError ({exc.smtp_code}): check MAWID_EMAIL_HOST_USER") from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...: 4xx temporary, 5xx not
            text = f"{type(exc).__name__} ({exc.smtp_code})"
            if 400 <= exc.smtp_code < 500:
                raise ChannelUnavailable(text) from exc
            raise ChannelRejected(text) from exc
        except ConnectionRefusedError as exc:  # nothing was sent
            raise ChannelUnavailable(f"{type(exc).__name__}: the SMTP server refused the connection") from exc
        except (smtplib.SMTPException, OSError) as exc:  # timeout or disconnect mid-conversation: maybe sent
            raise ChannelUnavailable(f"{type(exc).__name__}: {exc}"[:300], uncertain=True) from exc
        return Delivery(provider_message_id=message_id)


def _domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "mawid.localhost"


def _html(message: Message) -> str:
    direction = "rtl" if message.language == "ar" else "ltr"
    paragraphs = "".join(
        f"<p>{escape(part).replace(chr(10), '<br>')}</p>" for part in message.text.split("\n\n") if part.strip()
    )
    return (
        f'<!DOCTYPE html><html lang="{message.language}" dir="{direction}"><head><meta charset="utf-8">'
        f"<title>{escape(message.subject)}</title></head>"
        f'<body style="font-family: sans-serif" dir="{direction}">{paragraphs}</body></html>'
    )
