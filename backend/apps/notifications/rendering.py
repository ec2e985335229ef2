"""Turn a notification row into the words its recipient reads, in their language.

Times are shown in the business time zone (`Business.tz`), with Western digits, as is usual in Saudi
SMS: "Tue 1 Dec 2026, 9:00 AM" / "الثلاثاء 1 ديسمبر 2026، 9:00 ص", followed in customer messages by the Hijri
day and month ({hijri}: " (11 Jumada al-Akhirah)"). Money: "150.00 SAR" / "150.00 ر.س".
Customer messages name the business and where the service is given ({where}: `where_sentence`), and go out under
the business's SMS sender name when it has one (`Message.sender`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from apps.core.hijri import hijri_of
from apps.core.money import Money
from apps.notifications.channels import Message
from apps.notifications.templates import LANGUAGES, TEMPLATES
from apps.notifications.whatsapp_buttons import button_payload
from apps.notifications.whatsapp_templates import FOR_MESSAGE, sanitize
from apps.notifications.whatsapp_templates import TEMPLATES as WA_TEMPLATES
from apps.waitlist.selectors import offer_claim_url

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
_VAT = {"en": " (includes VAT {rate}: {amount})", "ar": " (شامل ضريبة القيمة المضافة {rate}: {amount})"}
_COMMA = {"en": ", ", "ar": "، "}
_AT_HOME = {"en": "{business}, at your address: {address}.", "ar": "{business}، في عنوانك: {address}."}
_AT_BRANCH = {"en": "{business} – {branch}: {address}.", "ar": "{business} – {branch}: {address}."}
_MAP = {"en": " Map: {url}", "ar": " الخريطة: {url}"}
_ITEM_SEPARATOR = {"en": "; ", "ar": "؛ "}
_MORE = {"en": " and {n} more", "ar": " و{n} غيرها"}
_CHANGE = {
    "new": {"en": "new #{ref} {service} ({customer}) {when}", "ar": "جديد #{ref} {service} ({customer}) {when}"},
    "moved": {
        "en": "#{ref} {service} ({customer}) moved {old_when} → {when}",
        "ar": "#{ref} {service} ({customer}) نُقل من {old_when} إلى {when}",
    },
    "cancelled": {
        "en": "#{ref} {service} ({customer}) {when} cancelled",
        "ar": "#{ref} {service} ({customer}) {when} أُلغي",
    },
}


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


def format_date(value: datetime, *, language: str, tz: ZoneInfo) -> str:
    """The day alone: "Mon 7 Dec 2026" / "الاثنين 7 ديسمبر 2026"."""
    local = value.astimezone(tz)
    weekday, month = _WEEKDAYS[language][local.weekday()], _MONTHS[language][local.month - 1]
    return f"{weekday} {local.day} {month} {local.year}"


def format_time(value: datetime, *, language: str, tz: ZoneInfo) -> str:
    """The time alone: "9:00 AM" / "9:00 ص"."""
    local = value.astimezone(tz)
    am_pm = _AM_PM[language][0 if local.hour < 12 else 1]
    return f"{local.hour % 12 or 12}:{local.minute:02d} {am_pm}"


def agenda_values(context: dict[str, Any], *, language: str, tz: ZoneInfo) -> dict[str, str]:
    """{day}, {hijri}, {count}, {items}, {more} and {link} of a staff agenda (`services.agenda.agenda_for`)."""
    day = datetime.combine(date.fromisoformat(str(context["date"])), time(12), tzinfo=tz)
    items = []
    for item in context.get("agenda") or []:
        start = _parse(item.get("start"))
        service = _service_name(
            SimpleNamespace(name_en=item.get("service_en", ""), name_ar=item.get("service_ar", "")), language
        )
        customer = (item.get("customer") or "").strip() or _A_CUSTOMER[language]
        items.append(f"{format_time(start, language=language, tz=tz) if start else ''} {service} ({customer})")
    count = int(context.get("count") or len(items))
    more = count - len(items)
    return {
        "day": format_date(day, language=language, tz=tz),
        "hijri": format_hijri(day, language=language, tz=tz),
        "count": str(count),
        "items": _ITEM_SEPARATOR[language].join(items),
        "more": _MORE[language].format(n=more) if more > 0 else "",
        "link": str(context.get("link") or ""),
    }


def changes_values(context: dict[str, Any], *, language: str, tz: ZoneInfo) -> dict[str, str]:
    """{count} and {changes} of a summary of booking changes (`services.coalesce`), each with its weekday and time."""

    def when(value: Any) -> str:
        moment = _parse(value)
        if moment is None:
            return ""
        return f"{_WEEKDAYS[language][moment.astimezone(tz).weekday()]} {format_time(moment, language=language, tz=tz)}"

    changes = []
    for change in context.get("changes") or []:
        spec = _CHANGE.get(str(change.get("kind")), _CHANGE["new"])[language]
        changes.append(
            spec.format(
                ref=change.get("ref", ""),
                service=_service_name(
                    SimpleNamespace(name_en=change.get("service_en", ""), name_ar=change.get("service_ar", "")),
                    language,
                ),
                customer=(change.get("customer") or "").strip() or _A_CUSTOMER[language],
                when=when(change.get("start")),
                old_when=when(change.get("old_start")),
            )
        )
    return {"changed": str(len(changes)), "changes": _ITEM_SEPARATOR[language].join(changes)}


def format_hijri(value: datetime, *, language: str, tz: ZoneInfo) -> str:
    """The Umm al-Qura day and month of `value`'s day in `tz`, in parentheses after a space: " (24 جمادى الآخرة)" /
    " (24 Jumada al-Akhirah)"; empty outside the calendar's range."""
    day = hijri_of(value, tz)
    return f" ({day.short(language)})" if day is not None else ""


def format_money(money: Money, *, language: str) -> str:
    symbol = _CURRENCY[language].get(money.currency, money.currency)
    sign = "-" if money.amount < 0 else ""
    amount = abs(money.amount)
    return f"{sign}{amount // 100}.{amount % 100:02d} {symbol}"


def format_rate(bps: int) -> str:
    """Basis points as a percentage: 1500 → "15%", 1250 → "12.5%"."""
    whole, rest = divmod(bps, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


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


def _name_in(row: Any, language: str) -> str:
    """A business's or branch's name in `language` (Arabic when it has one, else English)."""
    arabic, english = getattr(row, "name_ar", ""), getattr(row, "name_en", "")
    if language == "ar" and arabic:
        return str(arabic)
    return str(english or arabic or getattr(row, "name", ""))


def where_sentence(*, business: Any, booking: Any, language: str, directions: bool) -> str:
    """Which business writes and where the service is given, as a sentence: the business's name, then the
    customer's address for a home service, else the branch's name and address (and its map link with
    `directions`, when the branch has coordinates)."""
    name = _name_in(business, language)
    home_address = (getattr(booking, "customer_address", "") or "").strip()
    if home_address or getattr(business, "serves_at_home", False):
        if home_address:
            return _AT_HOME[language].format(business=name, address=home_address)
        return f"{name}."
    branch = getattr(booking, "branch", None)
    if branch is None:
        return f"{name}."
    parts = [getattr(branch, field, "") or "" for field in ("address", "district", "city")]
    address = _COMMA[language].join(part.strip() for part in parts if part.strip())
    sentence = _AT_BRANCH[language].format(business=name, branch=_name_in(branch, language), address=address)
    if not address:
        sentence = f"{name} – {_name_in(branch, language)}."
    url = getattr(branch, "map_url", "") if directions else ""
    return sentence + (_MAP[language].format(url=url) if url else "")


def waitlist_values(context: dict[str, Any], *, booking: Any, language: str, tz: ZoneInfo) -> dict[str, str]:
    """{link} and {expires} of a waitlist offer (its booking is the hold): the claim page, derived from the hold
    (the token is never stored), and the end of the claim window."""
    if "waitlist_offer" not in context or booking is None:
        return {}
    expires = _parse(context.get("expires_at"))
    return {
        "link": offer_claim_url(hold_id=booking.pk),
        "expires": format_datetime(expires, language=language, tz=tz) if expires is not None else "",
    }


def render(
    *,
    template: str,
    language: str,
    context: dict[str, Any],
    recipient: Any,
    booking: Any,
    business: Any,
    reference: str,
    channel: str = "",
) -> Message:
    """The subject and text of `template` for `recipient` in `language`. `booking` may be None for messages that
    do not need one; `business` is the Business row (name, time zone, SMS sender name)."""
    spec = TEMPLATES[template]
    tz = business.tz
    name = (getattr(recipient, "name", "") or "").strip()
    hello_named, hello_plain = _HELLO[language]
    values: dict[str, Any] = {
        "hello": hello_named.format(name=name) if name else hello_plain,
        "business": _name_in(business, language),
        "where": "",
        "ref": "",
        "service": "",
        "staff": "",
        "customer": "",
        "when": "",
        "hijri": "",
        "old_when": "",
        "amount": "",
        "vat": "",
        "reason": "",
        "day": "",
        "count": "",
        "items": "",
        "more": "",
        "link": "",
        "changed": "",
        "changes": "",
        "expires": "",
    }
    if "changes" in context:
        values.update(changes_values(context, language=language, tz=tz))
    if "agenda" in context and context.get("date"):
        values.update(agenda_values(context, language=language, tz=tz))
    if booking is not None:
        customer_name = (booking.customer.name or "").strip()
        values.update(
            ref=booking.pk,
            service=_service_name(booking.service, language),
            staff=booking.staff.display_name,
            customer=customer_name or _A_CUSTOMER[language],
            when=format_datetime(booking.start, language=language, tz=tz),
            hijri=format_hijri(booking.start, language=language, tz=tz),
            where=" "
            + where_sentence(business=business, booking=booking, language=language, directions=spec.directions),
        )
    old_start = _parse(context.get("old_start"))
    if old_start is not None:
        values["old_when"] = format_datetime(old_start, language=language, tz=tz)
    amount = context.get("amount")
    if isinstance(amount, dict):
        values["amount"] = format_money(Money(int(amount["amount"]), amount["currency"]), language=language)
    vat = context.get("vat")
    if isinstance(vat, dict) and int(vat.get("rate_bps", 0)) > 0:
        values["vat"] = _VAT[language].format(
            rate=format_rate(int(vat["rate_bps"])),
            amount=format_money(Money(int(vat["amount"]), vat["currency"]), language=language),
        )
    values.update(waitlist_values(context, booking=booking, language=language, tz=tz))
    reason = (context.get("reason") or "").strip().rstrip(".")
    if reason:
        values["reason"] = _REASON[language].format(reason=reason)
    message = Message(
        subject=spec.subject[language].format(**values),
        text=spec.text[language].format(**values),
        language=language,
        reference=reference,
        sender=getattr(business, "sender_name", "") or "",
    )
    if channel == "whatsapp":
        return _whatsapp(message, template=template, values=values, booking=booking)
    return message


def _whatsapp(message: Message, *, template: str, values: dict[str, Any], booking: Any) -> Message:
    """The WhatsApp template of `template` (`whatsapp_templates.FOR_MESSAGE`) with its parameters and signed button
    payloads; the message unchanged when there is none (the channel then refuses it)."""
    name = FOR_MESSAGE.get(template)
    if name is None:
        return message
    spec = WA_TEMPLATES[name]
    params = {**values, "when": f"{values['when']}{values['hijri']}"}
    booking_id = getattr(booking, "pk", None)
    return replace(
        message,
        template_name=name,
        template_params=tuple(sanitize(str(params[p])) for p in spec.params),
        button_payloads=tuple(button_payload(b, booking_id) for b in spec.buttons) if booking_id else (),
        callback_data=message.reference,
    )
