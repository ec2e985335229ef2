"""Message templates in Arabic and English: Python format strings, one subject (email) and one text (SMS and
email body) per language. Placeholders are filled by `rendering.render` with values already formatted for the
recipient's language: times in the business time zone, money as "150.00 SAR" / "150.00 ر.س".

Placeholders: {hello} (greeting with the recipient's name), {ref} (booking number), {service}, {staff},
{customer}, {when} (the booking's start), {hijri} (after {when} in customer messages about the booking's time: the
start's Umm al-Qura day and month, " (24 Jumada al-Akhirah)" / " (24 جمادى الآخرة)", without the year to keep the
SMS short), {old_when} (before a reschedule), {amount}, {vat} (after {amount}: the
VAT it includes, " (includes VAT 15%: 19.56 SAR)", where the business is VAT-registered; empty otherwise),
{reason} (a sentence, or empty), {business} (its name in the message's language), {where} (a sentence naming the business and where the
service is given: the branch's name and address, or the customer's address for a home service, and a map link of
the branch when the template gives `directions`; empty without a booking).
The staff agenda (`staff_agenda`, about a day, no booking): {day} (its date), {hijri} (its Hijri day and month),
{count} (its bookings still ahead), {items} ("9:00 AM Haircut (Sara); 9:30 AM …": time, service, customer's first
name), {more} (" and 5 more" past NOTIFICATIONS_STAFF_AGENDA_MAX_ITEMS, else empty), {link} (the calendar's day).
A summary of changes (`staff_changes`): {changed} (how many) and {changes} ("new #12 Haircut (Sara) Mon 11:00 AM; #13 Haircut
(John) moved Mon 10:00 AM → Mon 12:00 PM; #14 Haircut (Ali) Mon 3:00 PM cancelled").

Every customer message about a booking ends with {where}, so the customer knows which business (of the many on
the platform) writes; staff messages do not need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    audience: str  # "customer" | "staff": who it is written for
    subject: dict[str, str]
    text: dict[str, str]
    # The branch's map link in {where}: for messages that send the customer somewhere (a confirmation, a move, a
    # reminder), not for a cancellation, receipt or refund (an SMS segment saved, nothing to find).
    directions: bool = False


# Reminders: template -> how long before the booking starts it is sent. A reminder that could not go out in
# time is still sent until half of that lead has passed (a 24 h reminder until 12 h before), then skipped.
REMINDERS: dict[str, timedelta] = {
    "reminder_24h": timedelta(hours=24),
    "reminder_2h": timedelta(hours=2),
}

_ALL = [
    Template(
        "booking_confirmed",
        "customer",
        subject={"en": "Booking #{ref} confirmed", "ar": "تأكيد الحجز رقم {ref}"},
        text={
            "en": "{hello}your booking #{ref} is confirmed: {service} with {staff} on {when}{hijri}.{where}",
            "ar": "{hello}تم تأكيد حجزك رقم {ref}: {service} مع {staff} يوم {when}{hijri}.{where}",
        },
        directions=True,
    ),
    Template(
        "staff_booking_new",
        "staff",
        subject={"en": "New booking #{ref}", "ar": "حجز جديد رقم {ref}"},
        text={
            "en": "New booking #{ref}: {service} for {customer} on {when}.",
            "ar": "حجز جديد رقم {ref}: {service} للعميل {customer} يوم {when}.",
        },
    ),
    Template(
        "booking_rescheduled",
        "customer",
        subject={"en": "Booking #{ref} moved", "ar": "تغيير موعد الحجز رقم {ref}"},
        text={
            "en": "{hello}your booking #{ref} ({service} with {staff}) has moved from {old_when} to {when}{hijri}."
            "{where}",
            "ar": "{hello}تم تغيير موعد حجزك رقم {ref} ({service} مع {staff}) من {old_when} إلى {when}{hijri}.{where}",
        },
        directions=True,
    ),
    Template(
        "staff_booking_changed",
        "staff",
        subject={"en": "Booking #{ref} moved", "ar": "تغيير موعد الحجز رقم {ref}"},
        text={
            "en": "Booking #{ref} ({service}, {customer}) has moved from {old_when} to {when}.",
            "ar": "تم تغيير موعد الحجز رقم {ref} ({service}، {customer}) من {old_when} إلى {when}.",
        },
    ),
    Template(
        "booking_cancelled",
        "customer",
        subject={"en": "Booking #{ref} cancelled", "ar": "إلغاء الحجز رقم {ref}"},
        text={
            "en": "{hello}your booking #{ref} ({service} on {when}{hijri}) is cancelled.{reason}{where}",
            "ar": "{hello}تم إلغاء حجزك رقم {ref} ({service} يوم {when}{hijri}).{reason}{where}",
        },
    ),
    Template(
        "booking_cancelled_by_business",
        "customer",
        subject={"en": "Booking #{ref} cancelled", "ar": "إلغاء الحجز رقم {ref}"},
        text={
            "en": "{hello}we are sorry: {business} had to cancel your booking #{ref} ({service} on {when}{hijri})."
            "{reason} Anything you paid will be refunded in full.{where}",
            "ar": "{hello}نعتذر، اضطر {business} إلى إلغاء حجزك رقم {ref} ({service} يوم {when}{hijri}).{reason}"
            " سيُعاد إليك كامل المبلغ المدفوع إن وجد.{where}",
        },
    ),
    Template(
        "staff_booking_cancelled",
        "staff",
        subject={"en": "Booking #{ref} cancelled", "ar": "إلغاء الحجز رقم {ref}"},
        text={
            "en": "Booking #{ref} ({service}, {customer}, {when}) was cancelled.{reason}",
            "ar": "تم إلغاء الحجز رقم {ref} ({service}، {customer}، {when}).{reason}",
        },
    ),
    Template(
        "staff_agenda",
        "staff",
        subject={"en": "Your bookings today, {day}", "ar": "حجوزاتك اليوم، {day}"},
        text={
            "en": "Your bookings today, {day}{hijri} ({count}): {items}{more}. Calendar: {link}",
            "ar": "حجوزاتك اليوم، {day}{hijri} ({count}): {items}{more}. التقويم: {link}",
        },
    ),
    Template(
        "staff_changes",
        "staff",
        subject={"en": "Changes to your bookings", "ar": "تغييرات على حجوزاتك"},
        text={
            "en": "Changes to your bookings ({changed}): {changes}.",
            "ar": "تغييرات على حجوزاتك ({changed}): {changes}.",
        },
    ),
    Template(
        "reminder_24h",
        "customer",
        subject={"en": "Reminder: booking #{ref}", "ar": "تذكير بالحجز رقم {ref}"},
        text={
            "en": "Reminder: {service} with {staff} on {when}{hijri} (booking #{ref}).{where}",
            "ar": "تذكير: موعدك لخدمة {service} مع {staff} يوم {when}{hijri} (الحجز رقم {ref}).{where}",
        },
        directions=True,
    ),
    Template(
        "reminder_2h",
        "customer",
        subject={"en": "Reminder: booking #{ref} soon", "ar": "تذكير: موعد الحجز رقم {ref} قريب"},
        text={
            "en": "Reminder: your booking #{ref} for {service} with {staff} starts at {when}{hijri}. See you soon!"
            "{where}",
            "ar": "تذكير: يبدأ حجزك رقم {ref} لخدمة {service} مع {staff} في {when}{hijri}. نراك قريباً!{where}",
        },
        directions=True,
    ),
    Template(
        "payment_receipt",
        "customer",
        subject={"en": "Receipt for booking #{ref}", "ar": "إيصال الدفع للحجز رقم {ref}"},
        text={
            "en": "{hello}we received your payment of {amount}{vat} for booking #{ref} ({service} on {when})."
            " Thank you!{where}",
            "ar": "{hello}استلمنا دفعتك بمبلغ {amount}{vat} للحجز رقم {ref} ({service} يوم {when}). شكراً لك!{where}",
        },
    ),
    Template(
        "payment_refunded",
        "customer",
        subject={"en": "Refund for booking #{ref}", "ar": "استرداد مبلغ الحجز رقم {ref}"},
        text={
            "en": "{hello}we refunded {amount}{vat} for booking #{ref} ({service}). It may take a few days to appear"
            " on your statement.{where}",
            "ar": "{hello}أعدنا إليك مبلغ {amount}{vat} للحجز رقم {ref} ({service}). قد يستغرق ظهوره في كشف حسابك"
            " بضعة أيام.{where}",
        },
    ),
]

# The waitlist (apps/waitlist): a freed time held for the customer; {link} is the claim page, {expires} the time
# the hold ends (both from the offer, `rendering.waitlist_values`).
_ALL.append(
    Template(
        "waitlist_offer",
        "customer",
        subject={"en": "A time is free: {service} on {when}", "ar": "موعد متاح: {service} يوم {when}"},
        text={
            "en": "{hello}a time you waited for is free: {service} with {staff} on {when}{hijri}. It is held for you"
            " (booking #{ref}) until {expires}; confirm here: {link}{where}",
            "ar": "{hello}توفر موعد كنت في انتظاره: {service} مع {staff} يوم {when}{hijri}. الموعد محجوز لك (الحجز"
            " رقم {ref}) حتى {expires}، للتأكيد: {link}{where}",
        },
    )
)

TEMPLATES: dict[str, Template] = {t.key: t for t in _ALL}
LANGUAGES = ("ar", "en")
