"""WhatsApp: templates over real HTTP to the Cloud API fake, signed webhooks (statuses, button taps) through the
app's endpoint, SMS fallback once, rate-limit back-off, and who gets WhatsApp (the customer's choice, the business's
default)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from apps.bookings.models import Booking
from apps.catalog.tests.factories import MembershipFactory
from apps.core.testing import job_rows, run_jobs
from apps.notifications.models import Notification, NotificationAttempt, WhatsAppContact, WhatsAppEvent
from apps.notifications.rendering import format_datetime, format_hijri
from apps.notifications.whatsapp_buttons import button_payload, read_payload
from apps.notifications.whatsapp_fake import WhatsAppFake

from .conftest import RIYADH

pytestmark = pytest.mark.django_db(transaction=True)
Q = ["notifications"]
HOOK = "/api/v1/webhooks/whatsapp"
PROCESS = "apps.notifications.jobs.whatsapp_event_process"
SEND = "apps.notifications.jobs.notification_send"


@pytest.fixture
def wa(settings, sms) -> Iterator[WhatsAppFake]:
    """The Cloud API fake on loopback (statuses are posted by the tests, through `post`), the app pointed at it,
    and the `whatsapp` channel on beside SMS."""
    fake = WhatsAppFake(token="test-token", app_secret="test-secret", auto_statuses=False)
    with fake:
        settings.WHATSAPP_BASE_URL = fake.base_url
        settings.WHATSAPP_ACCESS_TOKEN = "test-token"
        settings.WHATSAPP_APP_SECRET = "test-secret"
        settings.WHATSAPP_PHONE_NUMBER_ID = fake.phone_number_id
        settings.WHATSAPP_VERIFY_TOKEN = "verify-me"
        settings.WHATSAPP_READ_TIMEOUT = 2.0
        settings.NOTIFICATIONS_CHANNELS = ["sms", "whatsapp"]
        yield fake


def post(fake: WhatsAppFake, payload: dict[str, Any], *, secret: str | None = None, body: bytes | None = None) -> Any:
    raw, signature = fake.signed(payload, secret=secret)
    return Client().post(
        HOOK,
        data=body if body is not None else raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )


def whatsapp_row(booking: Booking, template: str = "booking_confirmed") -> Notification:
    return Notification.objects.get(booking=booking, template=template, channel="whatsapp")


# --- templates ------------------------------------------------------------------------------------------------


def test_the_confirmation_goes_as_an_approved_template_in_arabic_with_signed_buttons(
    wa, sms, book, customer_ar, staff, at
):
    customer_ar.notify_whatsapp = True
    customer_ar.save()
    booking = book(customer_ar, "10:00")

    run_jobs(queues=Q)

    (message,) = wa.messages(str(customer_ar.phone))
    when = format_datetime(at("10:00"), language="ar", tz=RIYADH) + format_hijri(at("10:00"), language="ar", tz=RIYADH)
    assert (message["template"], message["language"]) == ("booking_confirmed", "ar")
    assert message["params"] == [str(booking.pk), "قص شعر", "Noura", when, "Salon Noor"]
    assert message["text"] == f"تم تأكيد حجزك رقم {booking.pk}: قص شعر مع Noura يوم {when} لدى Salon Noor. نراك قريباً."
    assert [b["title"] for b in message["buttons"]] == ["سأحضر", "تغيير الموعد", "إلغاء"]
    assert [read_payload(b["payload"]) for b in message["buttons"]] == [
        ("confirm", booking.pk),
        ("reschedule", booking.pk),
        ("cancel", booking.pk),
    ]
    n = whatsapp_row(booking)
    assert (n.status, n.provider_message_id) == ("sent", message["id"])
    assert message["callback_data"] == f"notification.{n.pk}"
    assert sms.messages(str(customer_ar.phone)) == []  # WhatsApp instead of SMS, not both
    assert wa.messages(str(staff.user.phone)) == []  # staff messages never go by WhatsApp


def test_the_english_template_is_en_us_with_english_buttons(wa, book, customer_en, at):
    customer_en.notify_whatsapp = True
    customer_en.save()
    booking = book(customer_en, "11:00")

    run_jobs(queues=Q)

    (message,) = wa.messages(str(customer_en.phone))
    assert (message["template"], message["language"]) == ("booking_confirmed", "en_US")
    assert message["text"].startswith(f"Your booking #{booking.pk} is confirmed: Haircut with Noura on ")
    assert [b["title"] for b in message["buttons"]] == ["I'll be there", "Reschedule", "Cancel"]


def test_a_forged_or_altered_button_payload_is_not_read():
    payload = button_payload("confirm", 42)
    assert read_payload(payload) == ("confirm", 42)
    assert read_payload(payload.replace(":42:", ":43:")) is None
    assert read_payload("cancel:42:abc") is None
    assert read_payload("") is None


# --- the webhook: signature, handshake, replays ---------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_only_for_our_verify_token(wa):
    ok = Client().get(HOOK, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "c-123"})
    assert (ok.status_code, ok.content) == (200, b"c-123")
    bad = Client().get(HOOK, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "c-123"})
    assert bad.status_code == 403


@pytest.mark.parametrize("how", ["missing", "wrong_secret", "tampered"])
def test_a_webhook_without_the_right_signature_is_refused_and_nothing_is_stored(wa, customer_ar, how):
    payload = wa.inbound_payload(sender=str(customer_ar.phone), text="stop")
    if how == "missing":
        response = Client().post(HOOK, data=wa.signed(payload)[0], content_type="application/json")
    elif how == "wrong_secret":
        response = post(wa, payload, secret="not-it")
    else:
        raw = wa.signed(payload)[0]
        response = post(wa, payload, body=raw.replace(b"stop", b"stap"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_signature_invalid"
    assert WhatsAppEvent.objects.count() == 0
    assert WhatsAppContact.objects.count() == 0


def test_statuses_move_the_notification_forward_only_even_out_of_order_and_replayed(wa, book, customer_en):
    customer_en.notify_whatsapp = True
    customer_en.save()
    booking = book(customer_en, "10:00")
    run_jobs(queues=Q)
    n = whatsapp_row(booking)
    to = str(customer_en.phone)

    for status in ("delivered", "sent"):  # out of order: delivered before sent
        assert post(wa, wa.status_payload(n.provider_message_id, status, to=to)).status_code == 200
    run_jobs(queues=Q)
    n.refresh_from_db()
    assert (n.delivery_status, n.read_at) == ("delivered", None)
    assert n.delivered_at is not None

    read = wa.status_payload(n.provider_message_id, "read", to=to, callback_data=n.reference)
    assert post(wa, read).json() == {"received": 1}
    assert post(wa, read).json() == {"received": 0}  # Meta's retry: stored once
    assert post(wa, wa.status_payload(n.provider_message_id, "sent", to=to)).json() == {"received": 0}
    run_jobs(queues=Q)
    n.refresh_from_db()
    assert n.delivery_status == "read"
    assert n.read_at is not None
    assert WhatsAppEvent.objects.filter(processed_at__isnull=False).count() == 3


# --- fallback and rate limits ---------------------------------------------------------------------------------


def test_a_failed_status_falls_back_to_sms_exactly_once(wa, sms, book, business):
    from apps.accounts.tests.factories import UserFactory

    customer = UserFactory(name="Huda", language="ar", phone="+966501110002", notify_whatsapp=True)
    booking = book(customer, "10:00")
    run_jobs(queues=Q)
    n = whatsapp_row(booking)

    failed = wa.status_payload(n.provider_message_id, "failed", to=str(customer.phone), error_code=131026)
    post(wa, failed)
    post(wa, failed)  # a duplicate
    post(wa, wa.status_payload(n.provider_message_id, "delivered", to=str(customer.phone)))  # too late: failed is final
    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.delivery_status, n.delivery_error) == ("failed", "131026 Message undeliverable")
    (fallback,) = Notification.objects.filter(booking=booking, template="booking_confirmed", channel="sms")
    assert fallback.status == "sent"
    assert fallback.context["fallback_of"] == n.pk
    assert {job["status"] for job in job_rows(PROCESS)} == {"succeeded"}
    (text,) = [m["text"] for m in sms.messages(str(customer.phone))]
    assert f"تم تأكيد حجزك رقم {booking.pk}" in text


def test_a_synchronous_rejection_fails_the_whatsapp_and_sends_the_sms_once(wa, sms, book, business):
    from apps.accounts.tests.factories import UserFactory

    customer = UserFactory(name="Omar", language="en", phone="+966501110003", notify_whatsapp=True)  # 0003: 131026
    booking = book(customer, "10:00")

    run_jobs(queues=Q)

    n = whatsapp_row(booking)
    assert n.status == "failed"
    assert "131026" in n.last_error
    assert wa.messages(str(customer.phone)) == []
    assert len(sms.messages(str(customer.phone))) == 1
    assert Notification.objects.get(booking=booking, template="booking_confirmed", channel="sms").status == "sent"


def test_a_rate_limit_is_retried_after_retry_after_without_a_duplicate(wa, book, customer_en):
    customer_en.notify_whatsapp = True
    customer_en.save()
    wa.set_faults("error_429", count=1, retry_after=1)  # Meta's 130429 (HTTP 400), with a Retry-After
    booking = book(customer_en, "10:00")

    run_jobs(queues=Q, timeout=20)

    n = whatsapp_row(booking)
    assert (n.status, n.attempts) == ("sent", 2)
    first, second = NotificationAttempt.objects.filter(notification=n).order_by("number")
    assert (first.outcome, second.outcome) == ("error", "sent")
    assert "130429" in first.error
    assert second.started_at - first.finished_at >= timedelta(seconds=1)  # waited as asked, not the 0.02 s base
    assert len(wa.messages(str(customer_en.phone))) == 1


# --- button taps ----------------------------------------------------------------------------------------------


def tap(fake: WhatsAppFake, phone: str, action: str, booking: Booking) -> None:
    payload = fake.inbound_payload(sender=phone, button_payload=button_payload(action, booking.pk))
    assert post(fake, payload).status_code == 200
    run_jobs(queues=Q)


def test_i_will_be_there_records_the_customer_s_confirmation_and_replies(wa, book, customer_ar):
    booking = book(customer_ar, "10:00")

    tap(wa, str(customer_ar.phone), "confirm", booking)

    booking.refresh_from_db()
    assert booking.customer_confirmed_at is not None
    assert booking.status == "confirmed"
    (reply,) = [m for m in wa.messages(str(customer_ar.phone)) if m["type"] == "text"]
    assert f"ستحضر موعدك رقم {booking.pk}" in reply["text"]
    contact = WhatsAppContact.objects.get(wa_id=str(customer_ar.phone).lstrip("+"))
    assert contact.last_inbound_at is not None


def test_a_tap_from_another_number_or_with_a_forged_payload_does_nothing(wa, book, customer_ar, customer_en):
    booking = book(customer_ar, "10:00")

    tap(wa, str(customer_en.phone), "cancel", booking)  # someone else's phone
    forged = wa.inbound_payload(sender=str(customer_ar.phone), button_payload=f"cancel:{booking.pk}:forged")
    post(wa, forged)
    run_jobs(queues=Q)

    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert sorted(WhatsAppEvent.objects.values_list("outcome", flat=True)) == [
        "button ignored: bad signature",
        "button ignored: not the booking's customer",
    ]


def test_cancel_before_the_cut_off_cancels_with_the_business_s_rules(wa, book, customer_ar, at):
    booking = book(customer_ar, "10:00")
    with time_machine.travel(at("10:00") - timedelta(days=2), tick=True):
        tap(wa, str(customer_ar.phone), "cancel", booking)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    change = booking.history.order_by("-id").first()
    assert (change.to_status, change.actor_id, change.reason) == ("cancelled", customer_ar.pk, "WhatsApp")


def test_cancel_after_the_cut_off_is_a_late_cancellation_as_in_the_api(wa, book, customer_ar, at, business):
    from apps.bookings import events as booking_events
    from apps.core import events

    seen: list[Any] = []
    events.subscribe(booking_events.BookingCancelled, seen.append)
    booking = book(customer_ar, "10:00")
    try:
        with time_machine.travel(at("10:00") - timedelta(hours=2), tick=True):  # cut-off: 24 h before
            tap(wa, str(customer_ar.phone), "cancel", booking)
    finally:
        events.unsubscribe(booking_events.BookingCancelled, seen.append)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert [(e.booking_id, e.before_cutoff, e.by_business) for e in seen] == [(booking.pk, False, False)]


def test_cancel_once_the_appointment_has_started_is_refused_with_a_reply(wa, book, customer_ar, at):
    booking = book(customer_ar, "10:00")
    with time_machine.travel(at("10:00") + timedelta(minutes=5), tick=True):
        tap(wa, str(customer_ar.phone), "cancel", booking)
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    (reply,) = [m for m in wa.messages(str(customer_ar.phone)) if m["type"] == "text"]
    assert "فات وقت الإلغاء" in reply["text"]


def test_reschedule_replies_with_the_web_reschedule_link(wa, book, customer_en, settings):
    settings.PUBLIC_BASE_URL = "https://mawid.example"
    booking = book(customer_en, "10:00")

    tap(wa, str(customer_en.phone), "reschedule", booking)

    (reply,) = [m for m in wa.messages(str(customer_en.phone)) if m["type"] == "text"]
    assert f"https://mawid.example/my/bookings/{booking.pk}/reschedule" in reply["text"]


# --- who gets WhatsApp ----------------------------------------------------------------------------------------


def test_the_business_default_sends_whatsapp_to_customers_who_did_not_stop_it(wa, sms, book, business, customer_ar):
    from apps.accounts.tests.factories import UserFactory

    business.default_notify_channel = "whatsapp"
    business.save()
    stopped = UserFactory(name="Reem", language="ar", phone="+966501110009")
    post(wa, wa.inbound_payload(sender=str(stopped.phone), text="إيقاف"))
    run_jobs(queues=Q)

    first = book(customer_ar, "10:00")
    second = book(stopped, "11:00")
    run_jobs(queues=Q)

    assert not customer_ar.notify_whatsapp
    assert [m["template"] for m in wa.messages(str(customer_ar.phone))] == ["booking_confirmed"]
    assert sms.messages(str(customer_ar.phone)) == []
    assert [m for m in wa.messages(str(stopped.phone)) if m["type"] == "template"] == []
    assert len(sms.messages(str(stopped.phone))) == 1
    assert Notification.objects.filter(booking=first, channel="whatsapp").count() == 3  # confirmation, 2 reminders
    assert Notification.objects.filter(booking=first, channel="sms", recipient=customer_ar).count() == 0
    assert Notification.objects.filter(booking=second, channel="whatsapp").count() == 0


def test_with_the_sms_default_only_customers_who_chose_whatsapp_get_it(wa, sms, book, customer_ar, customer_en):
    customer_en.notify_whatsapp = True
    customer_en.save()
    book(customer_ar, "10:00")
    book(customer_en, "11:00")
    run_jobs(queues=Q)
    assert wa.messages(str(customer_ar.phone)) == []
    assert len(sms.messages(str(customer_ar.phone))) == 1
    assert len(wa.messages(str(customer_en.phone))) == 1
    assert sms.messages(str(customer_en.phone)) == []


def test_customers_choose_whatsapp_in_me_and_managers_the_default_in_policies(wa, auth_client, customer_en, business):
    customer_en.set_unusable_password()  # as an account made by a sign-in code is
    customer_en.save()
    me = auth_client(customer_en)
    response = me.patch("/api/v1/me", {"notify_whatsapp": True}, format="json")
    assert response.status_code == 200, response.json()
    assert me.get("/api/v1/me").json()["notify_whatsapp"] is True

    owner = MembershipFactory.create(business=business, role="owner").user
    mc = auth_client(owner)
    url = f"/api/v1/manage/businesses/{business.slug}/policies"
    assert mc.get(url).json()["default_notify_channel"] == "sms"
    assert mc.patch(url, {"default_notify_channel": "whatsapp"}, format="json").status_code == 200
    assert mc.patch(url, {"default_notify_channel": "pigeon"}, format="json").status_code == 400
    business.refresh_from_db()
    assert business.default_notify_channel == "whatsapp"


# --- the templates, the client and the fake -------------------------------------------------------------------


def test_every_template_is_submittable_and_listed_by_the_command():
    import json
    from io import StringIO

    from django.core.management import call_command

    from apps.notifications.whatsapp_templates import BUTTON_TITLES, PLACEHOLDER, TEMPLATES

    for spec in TEMPLATES.values():
        for language, body in spec.body.items():
            assert spec.placeholders(language) == len(spec.params), (spec.name, language)
            assert not PLACEHOLDER.match(body), (spec.name, language)
            assert not body.rstrip().endswith("}}"), (spec.name, language)
    assert all(len(title) <= 20 for titles in BUTTON_TITLES.values() for title in titles.values())
    out = StringIO()
    call_command("whatsapp_templates", stdout=out)
    bodies = json.loads(out.getvalue())
    assert sorted((b["name"], b["language"]) for b in bodies) == sorted(
        (name, language) for name in TEMPLATES for language in ("ar", "en_US")
    )
    assert {b["category"] for b in bodies} == {"UTILITY"}


def test_the_reminder_and_the_move_render_their_templates_in_both_languages(book, customer_ar, customer_en, at):
    from apps.notifications.rendering import render

    booking = book(customer_en, "10:00")
    moved = {"old_start": at("09:00"), "new_start": at("10:00")}
    for language, who, expected in (("en", customer_en, "Haircut"), ("ar", customer_ar, "قص شعر")):
        reminder = render(
            template="reminder_2h",
            language=language,
            context={},
            recipient=who,
            booking=booking,
            business=booking.business,
            reference="notification.1",
            channel="whatsapp",
        )
        assert reminder.template_name == "booking_reminder"
        assert reminder.template_params[0] == expected
        assert reminder.template_params[4] == str(booking.pk)
        assert [read_payload(p)[0] for p in reminder.button_payloads] == ["confirm", "cancel", "reschedule"]
        move = render(
            template="booking_rescheduled",
            language=language,
            context=moved,
            recipient=who,
            booking=booking,
            business=booking.business,
            reference="notification.2",
            channel="whatsapp",
        )
        assert (move.template_name, len(move.template_params), len(move.button_payloads)) == (
            "booking_rescheduled",
            5,
            3,
        )
    sms = render(
        template="reminder_2h",
        language="en",
        context={},
        recipient=customer_en,
        booking=booking,
        business=booking.business,
        reference="notification.3",
    )
    assert (sms.template_name, sms.template_params, sms.button_payloads) == ("", (), ())  # SMS and email unchanged


def test_the_fake_refuses_like_meta_and_the_client_maps_the_codes(settings):
    from apps.notifications.whatsapp_client import (
        WhatsAppClient,
        WhatsAppRateLimited,
        WhatsAppRejected,
        WhatsAppUnavailable,
    )

    with WhatsAppFake(token="t") as fake:

        def client(token: str = "t", number: str = fake.phone_number_id) -> WhatsAppClient:  # noqa: S107
            return WhatsAppClient(base_url=fake.base_url, token=token, phone_number_id=number, read_timeout=1.0)

        def send(c: WhatsAppClient, **kw: Any) -> Any:
            args = {"to": "966501234567", "name": "booking_cancelled", "language": "ar", "params": ["1", "a", "b", "c"]}
            return c.send_template(**{**args, **kw})

        assert send(client()).wamid.startswith("wamid.FAKE")
        cases = [
            (client(token="wrong"), {}, WhatsAppRejected, 190),
            (client(number="999"), {}, WhatsAppRejected, 100),
            (client(), {"language": "fr"}, WhatsAppRejected, 132001),
            (client(), {"params": ["1", "a", "b"]}, WhatsAppRejected, 132000),
            (client(), {"params": ["1", "a\nb", "b", "c"]}, WhatsAppRejected, 132018),
            (client(), {"to": "966501230003"}, WhatsAppRejected, 131026),
        ]
        for c, kwargs, error, code in cases:
            with pytest.raises(error) as caught:
                send(c, **kwargs)
            assert caught.value.code == code
        fake.set_faults("http_429", retry_after=7)
        with pytest.raises(WhatsAppRateLimited) as limited:
            send(client())
        assert limited.value.retry_after == 7
        fake.set_faults("pair_rate")
        with pytest.raises(WhatsAppRateLimited) as pair:
            send(client())
        assert (pair.value.code, pair.value.retry_after) == (131056, 6)
        fake.set_faults("error_500")
        with pytest.raises(WhatsAppUnavailable) as down:
            send(client())
        assert down.value.maybe_sent
        fake.csw_mode = "sync"
        with pytest.raises(WhatsAppRejected) as closed:  # free-form text outside the 24-hour window
            client().send_text(to="966501234567", text="hi")
        assert closed.value.code == 131047
        assert len(fake.messages("966501234567")) == 1  # only the first, accepted one


def test_statuses_travel_from_the_fake_to_the_app_over_http(settings, sms, live_server, book, business):
    from apps.accounts.tests.factories import UserFactory

    customer = UserFactory(name="Lina", language="en", phone="+966501110017", notify_whatsapp=True)
    fake = WhatsAppFake(token="t", app_secret="s", callback_url=live_server.url + HOOK, status_delay=0.01)
    with fake:
        settings.WHATSAPP_BASE_URL = fake.base_url
        settings.WHATSAPP_ACCESS_TOKEN = "t"
        settings.WHATSAPP_APP_SECRET = "s"
        settings.WHATSAPP_PHONE_NUMBER_ID = fake.phone_number_id
        settings.NOTIFICATIONS_CHANNELS = ["sms", "whatsapp"]
        booking = book(customer, "10:00")
        run_jobs(queues=Q)
        assert fake.wait_idle(10)
        run_jobs(queues=Q)
        settings.WHATSAPP_VERIFY_TOKEN = fake.verify_token
        assert fake.verify()["ok"] is True  # Meta's GET handshake against the app
    n = whatsapp_row(booking)
    assert n.delivery_status == "read"
    assert [a["status"] for a in fake.webhook_attempts] == [200, 200, 200]


def test_a_customer_who_turns_whatsapp_off_after_booking_gets_the_sms_instead(wa, sms, book, customer_en):
    customer_en.notify_whatsapp = True
    customer_en.save()
    booking = book(customer_en, "10:00")  # rows planned for WhatsApp, jobs not run yet
    customer_en.notify_whatsapp = False
    customer_en.save()
    run_jobs(queues=Q)

    assert whatsapp_row(booking).status == "skipped"
    assert "failed" not in {job["status"] for job in job_rows(SEND)}
    assert wa.messages(str(customer_en.phone)) == []
    (text,) = [m["text"] for m in sms.messages(str(customer_en.phone))]
    assert text.startswith("Hello John, your booking")


def test_only_the_customer_confirms_and_only_an_upcoming_booking(book, customer_ar, customer_en, at):
    from apps.bookings.errors import InvalidTransition
    from apps.bookings.services import booking_customer_confirm
    from apps.core.errors import PermissionDenied

    booking = book(customer_ar, "10:00")
    stamp = booking.updated_at  # the booking's change stamp (notifications key on it) must not move
    with pytest.raises(PermissionDenied):
        booking_customer_confirm(booking_id=booking.pk, actor=customer_en)
    first = booking_customer_confirm(booking_id=booking.pk, actor=customer_ar, now=at("10:00") - timedelta(days=1))
    again = booking_customer_confirm(booking_id=booking.pk, actor=customer_ar, now=at("10:00") - timedelta(hours=1))
    assert again.customer_confirmed_at == first.customer_confirmed_at == at("10:00") - timedelta(days=1)
    with pytest.raises(InvalidTransition):
        booking_customer_confirm(booking_id=booking.pk, actor=customer_ar, now=at("10:00"))
    booking.refresh_from_db()
    assert (booking.status, booking.updated_at) == ("confirmed", stamp)


def test_a_reminder_goes_as_the_reminder_template_with_its_three_buttons(wa, soon_booking, customer_en):
    from django.utils import timezone

    from .conftest import plan_one

    customer_en.notify_whatsapp = True
    customer_en.save()
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=3))
    (n,) = plan_one(booking, template="reminder_2h", key=f"reminder_2h:{booking.pk}", context={"start": booking.start})

    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.channel, n.status) == ("whatsapp", "sent")
    (message,) = wa.messages(str(customer_en.phone))
    assert (message["template"], message["language"]) == ("booking_reminder", "en_US")
    assert message["text"].startswith("Reminder: Haircut with Noura on ")
    assert message["text"].endswith(f"(booking #{booking.pk}). Will you come?")
    assert [(b["title"], read_payload(b["payload"])) for b in message["buttons"]] == [
        ("I'll be there", ("confirm", booking.pk)),
        ("Cancel", ("cancel", booking.pk)),
        ("Reschedule", ("reschedule", booking.pk)),
    ]


def test_the_fake_s_limits_pair_rate_throughput_and_messaging_limit():
    from apps.notifications.whatsapp_client import WhatsAppClient, WhatsAppRateLimited

    with WhatsAppFake(token="t") as fake, WhatsAppClient(base_url=fake.base_url, token="t") as client:
        client.phone_number_id = fake.phone_number_id

        def send(to: str) -> Any:
            return client.send_template(to=to, name="booking_cancelled", language="ar", params=["1", "a", "b", "c"])

        fake.pair_rate_seconds = 60
        send("966501230010")
        with pytest.raises(WhatsAppRateLimited) as pair:
            send("966501230010")  # the same user again at once
        assert pair.value.code == 131056
        send("966501230011")  # others are unaffected
        fake.pair_rate_seconds = None

        time.sleep(1.05)  # the earlier sends out of the one-second throughput window
        fake.throughput_per_second = 3
        for n in range(3):
            send(f"96650123002{n}")
        with pytest.raises(WhatsAppRateLimited) as throughput:  # the fourth within the same second
            send("966501230029")
        assert throughput.value.code == 130429
        fake.throughput_per_second = None

        fake.messaging_limit = 2
        for to in ("966501230030", "966501230031", "966501230032"):
            send(to)
        fake.inbound(sender="966501230033", text="hi")  # inside its window: not counted
        send("966501230033")
        plans = {m["to"]: fake.status_plan(m) for m in fake.messages() if m["to"].startswith("96650123003")}
        assert plans["966501230030"][-1] == ("read", None)
        assert plans["966501230031"][-1] == ("read", None)
        assert plans["966501230032"] == [("failed", 131049)]
        assert plans["966501230033"][-1] == ("read", None)
