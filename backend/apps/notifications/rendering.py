"""Turn a notification row into the words its recipient reads, in their language.

Times are shown in the business time zone (`Business.tz`), with Western digits, as is usual in Saudi
SMS: "Tue 1 Dec 2026, 9:00 AM" / "الثلاثاء 1 ديسمبر 2026، 9:00 ص". Money: "150.00 SAR" / "150.00 ر.س".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apps.core.money import Money
from apps.notifications.channels import Message
from apps.notifications.templates import LANGUAGES, TEMPLATES

_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "ar": ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"],
}
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "ar": [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ],
}
_AM_PM = {"en": ("AM", "PM"), "ar": ("ص", "م")}
_CURRENCY = {"ar": {"SAR": "ر.س"}, "en": {}}
_HELLO = {"en": ("Hello {name}, ", "Hello, "), "ar": ("مرحباً {name}، ", "مرحباً، ")}
_REASON = {"en": " Reason: {reason}.", "ar": " السبب: {reason}."}
_A_CUSTOMER = {"en": "a customer", "ar": "عميل"}


def language_of(user: Any) -> str:
    language = getattr(user, "language", None) or "ar"
    return language if language in LANGUAGES else "ar"


def format_datetime(value: datetime, *, language: str, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    hour = local.hour % 12 or 12
    am_pm = _AM_PM[language][0 if local.hour < 12 else 1]
    weekday, month = _WEEKDAYS[language][local.weekday()], _MONTHS[language][local.month - 1]
    separator = "،" if language == "ar" else ","
    return f"{weekday} {local.day} {month} {local.year}{separator} {hour}:{local.minute:02d} {am_pm}"


def format_money(money: Money, *, language: str) -> str:
    symbol = _CURRENCY[language].get(money.currency, money.currency)
    sign = "-" if money.amount < 0 else ""
    amount = abs(money.amount)
    return f"{sign}{amount // 100}.{amount % 100:02d} {symbol}"


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def _service_name(service: Any, language: str) -> str:
    if language == "ar" and getattr(service, "name_ar", ""):
        return service.name_ar
    return getattr(service, "name_en", "") or getattr(service, "name_ar", "")


def render(
    *,
    template: str,
    language: str,
    context: dict[str, Any],
    recipient: Any,
    booking: Any,
    business: Any,
    reference: str,
) -> Message:
    """The subject and text of `template` for `recipient` in `language`. `booking` may be None for messages that
    do not need one; `business` is the Business row (name and time zone)."""
    spec = TEMPLATES[template]
    tz = business.tz
    name = (getattr(recipient, "name", "") or "").strip()
    hello_named, hello_plain = _HELLO[language]
    values: dict[str, Any] = {
        "hello": hello_named.format(name=name) if name else hello_plain,
        "business": business.name,
        "ref": "",
        "service": "",
        "staff": "",
        "customer": "",
        "when": "",
        "old_when": "",
        "amount": "",
        "reason": "",
    }
    if booking is not None:
        customer_name = (booking.customer.name or "").strip()
        values.update(
            ref=booking.pk,
            service=_service_name(booking.service, language),
            staff=booking.staff.display_name,
            customer=customer_name or _A_CUSTOMER[language],
            when=format_datetime(booking.start, language=language, tz=tz),
        )
    old_start = _parse(context.get("old_start"))
    if old_start is not None:
        values["old_when"] = format_datetime(old_start, language=language, tz=tz)
    amount = context.get("amount")
    if isinstance(amount, dict):
        values["amount"] = format_money(Money(int(amount["amount"]), amount["currency"]), language=language)
    reason = (context.get("reason") or "").strip().rstrip(".")
    if reason:
        values["reason"] = _REASON[language].format(reason=reason)
    return Message(
        subject=spec.subject[language].format(**values),
        text=spec.text[language].format(**values),
        language=language,
        reference=reference,
    )
