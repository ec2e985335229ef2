"""Messages in Arabic and English: times in the business time zone, money in the reader's words."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from apps.core.money import Money
from apps.notifications.rendering import format_datetime, format_hijri, format_money, render
from apps.notifications.templates import LANGUAGES, TEMPLATES

RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Tue 1 Dec 2026, 9:00 AM"),
        ("ar", "الثلاثاء 1 ديسمبر 2026، 9:00 ص"),
    ],
)
def test_times_are_shown_in_the_business_time_zone(language, expected):
    six_utc = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh
    assert format_datetime(six_utc, language=language, tz=RIYADH) == expected


def test_afternoon_and_midnight_hours():
    assert format_datetime(datetime(2026, 12, 1, 15, 30, tzinfo=RIYADH), language="en", tz=RIYADH).endswith("3:30 PM")
    assert format_datetime(datetime(2026, 12, 1, 15, 30, tzinfo=RIYADH), language="ar", tz=RIYADH).endswith("3:30 م")
    assert format_datetime(datetime(2026, 12, 1, 0, 5, tzinfo=RIYADH), language="en", tz=RIYADH).endswith("12:05 AM")


@pytest.mark.parametrize(
    ("money", "language", "expected"),
    [
        (Money(15000, "SAR"), "en", "150.00 SAR"),
        (Money(15000, "SAR"), "ar", "150.00 ر.س"),
        (Money(5, "SAR"), "en", "0.05 SAR"),
        (Money(123456, "USD"), "ar", "1234.56 USD"),
    ],
)
def test_money(money, language, expected):
    assert format_money(money, language=language) == expected


class _Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _booking():
    customer = _Obj(name="Sara", language="ar")
    return _Obj(
        pk=42,
        customer=customer,
        service=_Obj(name_en="Haircut", name_ar="قص شعر"),
        staff=_Obj(display_name="Noura"),
        start=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_completely_in_both_languages(template, language):
    business = _Obj(name="Salon Noor", tz=RIYADH)
    context = {
        "old_start": "2026-11-30T07:00:00Z",
        "amount": {"amount": 15000, "currency": "SAR"},
        "reason": "Staff member ill",
        # a staff agenda's (services.agenda.agenda_for): 42 bookings that day, one listed
        "date": "2026-12-01",
        "agenda": [
            {"start": "2026-12-01T06:00:00Z", "service_en": "Haircut", "service_ar": "قص شعر", "customer": "Sara"}
        ],
        "count": 42,
        # a summary of changes' (services.coalesce)
        "changes": [
            {
                "kind": "moved",
                "ref": 42,
                "service_en": "Haircut",
                "service_ar": "قص شعر",
                "customer": "Sara",
                "start": "2026-12-01T06:00:00Z",
                "old_start": "2026-11-30T07:00:00Z",
            },
        ],
        "link": "https://mawid.example/calendar/salon/day?date=2026-12-01",
        "waitlist_offer": 7,
        "expires_at": "2026-12-01T06:15:00Z",
    }
    message = render(
        template=template,
        language=language,
        context=context,
        recipient=_Obj(name="Sara"),
        booking=_booking(),
        business=business,
        reference="notification.1",
    )
    assert message.subject
    assert message.text
    assert not re.search(r"[{}]", message.subject + message.text)  # no placeholder left unfilled
    assert "42" in message.text
    if language == "ar":
        assert re.search(r"[\u0600-\u06FF]", message.text)
    if "when" in TEMPLATES[template].text[language]:
        expected = "9:00 ص" if language == "ar" else "9:00 AM"
        assert expected in message.text  # 06:00 UTC shown as Riyadh time
    if "{hijri}" in TEMPLATES[template].text[language]:
        assert ("(21 جمادى الآخرة)" if language == "ar" else "(21 Jumada al-Akhirah)") in message.text
    if "{amount}" in TEMPLATES[template].text[language]:
        assert ("150.00 ر.س" if language == "ar" else "150.00 SAR") in message.text


def test_the_confirmation_reads_naturally():
    business = _Obj(name="Salon Noor", tz=RIYADH)
    args = {
        "template": "booking_confirmed",
        "context": {},
        "booking": _booking(),
        "business": business,
        "reference": "notification.1",
    }
    en = render(language="en", recipient=_Obj(name="Sara"), **args)
    ar = render(language="ar", recipient=_Obj(name="سارة"), **args)
    assert en.text == (
        "Hello Sara, your booking #42 is confirmed: Haircut with Noura on Tue 1 Dec 2026, 9:00 AM"
        " (21 Jumada al-Akhirah). Salon Noor."
    )
    assert ar.text == (
        "مرحباً سارة، تم تأكيد حجزك رقم 42: قص شعر مع Noura يوم الثلاثاء 1 ديسمبر 2026، 9:00 ص"
        " (21 جمادى الآخرة). Salon Noor."
    )
    assert en.subject == "Booking #42 confirmed"
    assert ar.subject == "تأكيد الحجز رقم 42"


def test_a_reason_is_a_sentence_only_when_there_is_one():
    business = _Obj(name="Salon Noor", tz=RIYADH)
    args = {
        "template": "booking_cancelled",
        "language": "en",
        "recipient": _Obj(name=""),
        "booking": _booking(),
        "business": business,
        "reference": "r",
    }
    assert (
        render(context={}, **args).text
        == "Hello, your booking #42 (Haircut on Tue 1 Dec 2026, 9:00 AM (21 Jumada al-Akhirah)) is cancelled."
        " Salon Noor."
    )
    assert render(context={"reason": "Travelling."}, **args).text.endswith(
        "is cancelled. Reason: Travelling. Salon Noor."
    )


# --- which business, where ------------------------------------------------------------------------------------

MAP = "https://maps.google.com/?q=24.713600,46.675300"


def _salon(**extra):
    return _Obj(
        **{
            "name_en": "Salon Noor",
            "name_ar": "صالون نور",
            "tz": RIYADH,
            "serves_at_home": False,
            "sender_name": "",
            **extra,
        }
    )


def _at_branch(**extra):
    booking = _booking()
    booking.branch = _Obj(
        name_en="Olaya branch",
        name_ar="فرع العليا",
        address="King Fahd Road",
        district="Al Olaya",
        city="Riyadh",
        map_url=MAP,
    )
    booking.customer_address = ""
    booking.__dict__.update(extra)
    return booking


def _render(template, language, business, booking, context=None):
    return render(
        template=template,
        language=language,
        context=context or {"amount": {"amount": 15000, "currency": "SAR"}},
        recipient=_Obj(name="Sara"),
        booking=booking,
        business=business,
        reference="notification.1",
    )


def test_a_confirmation_names_the_business_the_branch_and_the_way_there_in_both_languages():
    en = _render("booking_confirmed", "en", _salon(), _at_branch())
    ar = _render("booking_confirmed", "ar", _salon(), _at_branch())
    assert en.text == (
        "Hello Sara, your booking #42 is confirmed: Haircut with Noura on Tue 1 Dec 2026, 9:00 AM"
        f" (21 Jumada al-Akhirah). Salon Noor – Olaya branch: King Fahd Road, Al Olaya, Riyadh. Map: {MAP}"
    )
    assert ar.text == (
        "مرحباً Sara، تم تأكيد حجزك رقم 42: قص شعر مع Noura يوم الثلاثاء 1 ديسمبر 2026، 9:00 ص"
        f" (21 جمادى الآخرة). صالون نور – فرع العليا: King Fahd Road، Al Olaya، Riyadh. الخريطة: {MAP}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(t.key for t in TEMPLATES.values() if t.audience == "customer"))
def test_every_customer_message_names_the_business_and_the_branch(template, language):
    message = _render(template, language, _salon(), _at_branch(), context={"reason": "x", **_context()})
    assert ("صالون نور" if language == "ar" else "Salon Noor") in message.text
    assert ("فرع العليا" if language == "ar" else "Olaya branch") in message.text
    assert "King Fahd Road" in message.text
    assert (MAP in message.text) == TEMPLATES[template].directions


def _context():
    return {"old_start": "2026-11-30T07:00:00Z", "amount": {"amount": 15000, "currency": "SAR"}}


def test_staff_messages_do_not_carry_the_address():
    message = _render("staff_booking_new", "en", _salon(), _at_branch())
    assert "King Fahd Road" not in message.text


def test_a_branch_without_coordinates_or_address_gives_what_it_has():
    booking = _at_branch()
    booking.branch = _Obj(name_en="Main", name_ar="", address="", district="", city="", map_url="")
    assert _render("reminder_24h", "ar", _salon(), booking).text.endswith("(الحجز رقم 42). صالون نور – Main.")


@pytest.mark.parametrize(
    ("language", "ending"),
    [
        ("en", "Salon Noor, at your address: 12 Tahlia St, Jeddah."),
        ("ar", "صالون نور، في عنوانك: 12 Tahlia St, Jeddah."),
    ],
)
def test_a_home_service_names_the_customers_address_instead_of_a_branch(language, ending):
    booking = _at_branch(customer_address="12 Tahlia St, Jeddah")
    message = _render("booking_confirmed", language, _salon(serves_at_home=True), booking)
    assert message.text.endswith(ending)
    assert "King Fahd Road" not in message.text
    assert MAP not in message.text


def test_the_message_carries_the_businesss_sender_name():
    assert _render("booking_confirmed", "en", _salon(), _at_branch()).sender == ""
    business = _salon()
    business.sender_name = "SalonNoor"
    assert _render("booking_confirmed", "en", business, _at_branch()).sender == "SalonNoor"


def test_customer_messages_about_the_booking_time_and_the_staff_agenda_show_the_hijri_day_other_staff_ones_do_not():
    with_hijri = {key for key, t in TEMPLATES.items() if all("{hijri}" in t.text[lang] for lang in LANGUAGES)}
    assert with_hijri == {
        "booking_confirmed",
        "booking_rescheduled",
        "booking_cancelled",
        "booking_cancelled_by_business",
        "reminder_24h",
        "reminder_2h",
        "waitlist_offer",
        "staff_agenda",  # the staff member's day: its Hijri date beside the Gregorian one
    }
    assert all(TEMPLATES[key].audience == "customer" for key in with_hijri - {"staff_agenda"})


def test_the_hijri_day_is_the_one_in_the_business_time_zone():
    # 22:30 UTC on 30 November is already 1 December (21 Jumada al-Akhirah 1448) in Riyadh
    late = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert format_hijri(late, language="en", tz=RIYADH) == " (21 Jumada al-Akhirah)"
    assert format_hijri(late, language="ar", tz=RIYADH) == " (21 جمادى الآخرة)"
    assert format_hijri(late, language="en", tz=ZoneInfo("UTC")) == " (20 Jumada al-Akhirah)"
