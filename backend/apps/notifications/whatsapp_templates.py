"""The WhatsApp templates Mawid sends (category UTILITY), in one place: what is submitted to Meta for approval
(`manage.py whatsapp_templates`), what the channel fills and what the loopback fake accepts.

Standard library only (the fake imports it). Bodies use Meta's positional placeholders `{{1}}`…; a body may not
start or end with one (Meta refuses it, 2388299). Each template has an Arabic (`ar`) and an English (`en_US`)
translation under the same name, and quick-reply buttons whose payloads the channel fills per message
(`confirm|cancel|reschedule:<booking id>:<signature>`, see `apps.notifications.whatsapp_buttons`).

Which Mawid message goes out as which template: `FOR_MESSAGE` (the other messages, staff ones, receipts and
refunds, stay on SMS and email).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGE_CODES = {"ar": "ar", "en": "en_US"}  # Mawid's language → Meta's translation code
BUTTON_TITLES = {
    "confirm": {"ar": "سأحضر", "en_US": "I'll be there"},
    "cancel": {"ar": "إلغاء", "en_US": "Cancel"},
    "reschedule": {"ar": "تغيير الموعد", "en_US": "Reschedule"},
}
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True, slots=True)
class WaTemplate:
    name: str
    body: dict[str, str]  # Meta language code → body with {{1}}…
    params: tuple[str, ...]  # what each placeholder holds, in order (names of rendering values)
    buttons: tuple[str, ...] = ()  # quick-reply actions, in index order
    category: str = "UTILITY"

    def placeholders(self, language: str) -> int:
        return len(set(PLACEHOLDER.findall(self.body[language])))

    def components(self, language: str) -> list[dict[str, object]]:
        """The template's components as submitted to Meta (`POST /<WABA_ID>/message_templates`)."""
        body: dict[str, object] = {"type": "BODY", "text": self.body[language]}
        components: list[dict[str, object]] = [body]
        if self.buttons:
            components.append(
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "QUICK_REPLY", "text": BUTTON_TITLES[b][language]} for b in self.buttons],
                }
            )
        return components


_ALL = [
    WaTemplate(
        "booking_confirmed",
        body={
            "ar": "تم تأكيد حجزك رقم {{1}}: {{2}} مع {{3}} يوم {{4}} لدى {{5}}. نراك قريباً.",
            "en_US": "Your booking #{{1}} is confirmed: {{2}} with {{3}} on {{4}} at {{5}}. See you soon.",
        },
        params=("ref", "service", "staff", "when", "business"),
        buttons=("confirm", "reschedule", "cancel"),
    ),
    WaTemplate(
        "booking_reminder",
        body={
            "ar": "تذكير: موعدك لخدمة {{1}} مع {{2}} يوم {{3}} لدى {{4}} (الحجز رقم {{5}}). هل ستحضر؟",
            "en_US": "Reminder: {{1}} with {{2}} on {{3}} at {{4}} (booking #{{5}}). Will you come?",
        },
        params=("service", "staff", "when", "business", "ref"),
        buttons=("confirm", "cancel", "reschedule"),
    ),
    WaTemplate(
        "booking_rescheduled",
        body={
            "ar": "تم تغيير موعد حجزك رقم {{1}} ({{2}} مع {{3}}) إلى {{4}} لدى {{5}}. نراك قريباً.",
            "en_US": "Your booking #{{1}} ({{2}} with {{3}}) has moved to {{4}} at {{5}}. See you soon.",
        },
        params=("ref", "service", "staff", "when", "business"),
        buttons=("confirm", "reschedule", "cancel"),
    ),
    WaTemplate(
        "booking_cancelled",
        body={
            "ar": "تم إلغاء حجزك رقم {{1}} ({{2}} يوم {{3}}) لدى {{4}}. يسعدنا حجزك مرة أخرى.",
            "en_US": "Your booking #{{1}} ({{2}} on {{3}}) at {{4}} is cancelled. We hope to see you again.",
        },
        params=("ref", "service", "when", "business"),
    ),
]

TEMPLATES: dict[str, WaTemplate] = {t.name: t for t in _ALL}

# Mawid notification template → WhatsApp template.
FOR_MESSAGE: dict[str, str] = {
    "booking_confirmed": "booking_confirmed",
    "reminder_24h": "booking_reminder",
    "reminder_2h": "booking_reminder",
    "booking_rescheduled": "booking_rescheduled",
    "booking_cancelled": "booking_cancelled",
    "booking_cancelled_by_business": "booking_cancelled",
}


def sanitize(text: str) -> str:
    """A parameter as Meta takes it: no newline or tab, never more than 4 spaces in a row (132018), not empty."""
    cleaned = re.sub(r"\s+", " ", str(text)).strip()
    return cleaned or "-"
