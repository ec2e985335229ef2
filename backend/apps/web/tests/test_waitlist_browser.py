"""The waitlist in a real browser (phone size, Arabic, then English): a day with no free time offers the
waitlist; joining lands on "My waitlist" with the entry; the blocking booking is cancelled and the offer job
holds the time for the customer; the page shows the held time and the link; the claim page takes it (a clinic
paid at the venue: no payment step) and the entry is booked. Each page passes axe-core and fits its screen."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_create
from apps.catalog.tests.factories import BusinessFactory, ServiceFactory, StaffFactory
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.services import waitlist_offer_free_slots
from apps.web.tests.browser import RIYADH, assert_accessible, assert_fits, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_full_day_then_the_waitlist_then_a_freed_time_claimed(web, open_page, tmp_path):
    # A clinic paid at the venue whose only dentist has one hour a day; tomorrow's is taken.
    clinic = BusinessFactory(slug="quiet-clinic", name_en="Quiet Clinic", name_ar="عيادة الهدوء",
                             require_payment=False, min_notice_minutes=60, max_advance_days=30)  # fmt: skip
    checkup = ServiceFactory(business=clinic, name_en="Check-up", name_ar="فحص", duration_minutes=60)
    dentist = StaffFactory(business=clinic, services=[checkup], display_name="د. ريم", hours=[(time(10), time(11))])
    tomorrow = web.today + timedelta(days=1)
    blocking = booking_create(customer=User.objects.create_user(phone="+966550000111", name="Other"),
                              staff_id=dentist.pk, service=checkup,
                              start=datetime.combine(tomorrow, time(10), tzinfo=RIYADH))  # fmt: skip

    page = open_page(size="phone", lang="ar")
    sign_in(page, web, "0551237001")
    page.goto(f"/b/quiet-clinic/book?service={checkup.pk}&staff={dentist.pk}&date={tomorrow.isoformat()}")
    assert page.get_by_test_id("no-times").is_visible()
    page.get_by_test_id("waitlist-join-button").click()

    page.wait_for_url("**/my/waitlist")
    (entry,) = WaitlistEntry.objects.filter(customer__phone="+966551237001")
    card = page.locator(f"[data-testid=waitlist-entry][data-entry='{entry.pk}']")
    assert "بانتظار موعد" in card.get_by_test_id("status").inner_text()
    assert "فحص" in card.inner_text()
    assert card.get_by_test_id("offer").count() == 0

    booking_cancel(booking_id=blocking.pk, actor=blocking.customer, reason="plans changed")
    (offer,) = waitlist_offer_free_slots(business_id=clinic.pk)
    assert offer.entry_id == entry.pk

    page.reload()
    assert "موعد محجوز لك" in card.get_by_test_id("status").inner_text()
    held = card.get_by_test_id("offer").inner_text()
    assert "10:00" in held
    assert (web.now + timedelta(minutes=15)).strftime("%H:%M") in held  # the hold runs out then
    assert_fits(page, "ar")
    assert_accessible(page)
    screenshot(page, "my-waitlist-ar-phone", tmp_path)

    page.get_by_test_id("lang-switch").click()
    page.wait_for_url("**/my/waitlist")
    assert "Time held for you" in card.get_by_test_id("status").inner_text()
    assert_fits(page, "en")
    assert_accessible(page)
    screenshot(page, "my-waitlist-en-phone", tmp_path)

    card.get_by_test_id("claim-link").click()
    page.wait_for_url("**/waitlist/claim/**")
    assert_accessible(page)
    page.get_by_test_id("claim").click()
    page.wait_for_url(f"**/my/bookings/{offer.hold_id}")

    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CONFIRMED
    assert WaitlistOffer.objects.get(pk=offer.pk).status == WaitlistOffer.Status.CLAIMED
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.BOOKED
    page.goto("/my/waitlist")
    earlier = page.get_by_test_id("earlier")
    assert "Booked" in earlier.get_by_test_id("status").inner_text()
    assert page.get_by_test_id("leave").count() == 0
    assert web.pages == []  # no script error, no policy violation on any page
