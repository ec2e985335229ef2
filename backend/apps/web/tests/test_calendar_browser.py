"""In a real browser: the business calendar. A booking a customer makes appears in the manager's open day view
without a reload (polling), the manager moves it from the calendar to another free time and the customer sees the
new time on their bookings page; complete, no-show and cancel with a reason; the day and week views pass axe-core
and fit the screen, in Arabic and English, at phone and desktop size."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import quote

import pytest

from apps.bookings import services as bookings
from apps.bookings.models import Booking
from apps.catalog.models import Business, Membership
from apps.catalog.tests.factories import BranchFactory, ServiceFactory, StaffFactory
from apps.web.tests.browser import PINNED, RIYADH, assert_accessible, assert_fits, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

MANAGER_PHONE = "0551110001"
CUSTOMER_PHONE = "0551110002"


def at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(PINNED.date(), time(hours, minutes), tzinfo=RIYADH)


@pytest.fixture
def salon(web, settings):
    """A salon with one branch, a 30-minute haircut with a 10-minute buffer after, two staff members working
    09:00-17:00, and a manager; the calendar asks for changes every 300 ms."""
    from apps.accounts.models import User

    settings.CALENDAR_POLL_MS = 300
    business = Business.objects.create(slug="noor", name_en="Noor Salon", name_ar="صالون نور")
    branch = BranchFactory.create(business=business, name_en="Olaya", name_ar="العليا")
    service = ServiceFactory.create(
        business=business, name_en="Haircut", name_ar="قص شعر", duration_minutes=30, buffer_after_minutes=10
    )
    staff = StaffFactory.create(business=business, branch=branch, services=[service], display_name="Reem")
    StaffFactory.create(business=business, branch=branch, services=[service], display_name="Lama")
    manager = User.objects.create_user(phone="+966551110001", name="Manager")
    Membership.objects.create(business=business, user=manager, role=Membership.Role.MANAGER)
    customer = User.objects.create_user(phone="+966551110002", name="Sara")
    return business, branch, service, staff, customer


def day_path(business: Business, branch_id: int) -> str:
    return f"/calendar/{business.slug}/day?branch={branch_id}&date={PINNED.date().isoformat()}"


def signed_in_at(page, web, path: str, phone: str = MANAGER_PHONE) -> None:
    page.goto("/login?next=" + quote(path))
    sign_in(page, web, phone)
    page.wait_for_url("**" + path.split("?")[0] + "*")


def test_a_customer_booking_appears_live_is_moved_and_the_customer_sees_the_new_time(web, open_page, salon):
    business, branch, service, staff, customer = salon
    manager_page = open_page(size="desktop", lang="en")
    signed_in_at(manager_page, web, day_path(business, branch.pk))
    assert manager_page.get_by_test_id("cal-col").count() == 2
    assert manager_page.get_by_test_id("cal-booking").count() == 0

    # the customer books (the bookings service, as the booking pages do) and pays: the open day view shows it
    booking = bookings.booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("13:00"))
    bookings.booking_confirm(booking_id=booking.pk)
    block = manager_page.locator(f"[data-booking='{booking.pk}']")
    block.wait_for(timeout=5_000)  # no reload: the polling swapped the grid in
    assert "13:00–13:30" in block.inner_text()
    assert "Sara" in block.inner_text()

    # the manager opens it and moves it to 15:00, a free time the availability offers
    block.click()
    manager_page.wait_for_url(f"**/bookings/{booking.pk}*")
    assert manager_page.get_by_test_id("cal-customer").inner_text() == "Sara"
    assert_accessible(manager_page)
    manager_page.check(f"input[name=start][value='{at('15:00').isoformat()}']")
    manager_page.get_by_test_id("cal-reschedule").click()
    manager_page.wait_for_load_state()
    assert "15:00–15:30" in manager_page.get_by_test_id("cal-when").inner_text()
    assert "Moved from" in manager_page.get_by_test_id("cal-history").inner_text()
    booking.refresh_from_db()
    assert booking.start == at("15:00")
    manager_page.get_by_test_id("cal-back").click()
    manager_page.wait_for_url("**/day?*")
    assert "15:00–15:30" in manager_page.locator(f"[data-booking='{booking.pk}']").inner_text()

    # the customer, in a browser of their own, sees the new time
    customer_page = open_page(size="phone", lang="en")
    signed_in_at(customer_page, web, "/my/bookings", CUSTOMER_PHONE)
    card = customer_page.locator(f"[data-booking='{booking.pk}']")
    assert "15:00" in card.inner_text()
    assert "13:00" not in card.inner_text()
    assert not web.pages, web.pages


def test_complete_no_show_and_cancel_with_a_reason_from_the_calendar(web, open_page, salon, tmp_path):
    business, branch, service, staff, customer = salon
    lama = staff.__class__.objects.exclude(pk=staff.pk).get()
    started = Booking.objects.create(
        business=business, branch=branch, customer=customer, staff=staff, service=service, status="confirmed",
        start=at("09:00"), end=at("09:30"), busy_start=at("09:00"), busy_end=at("09:40"), price_amount=15000,
    )  # fmt: skip
    absent = Booking.objects.create(
        business=business, branch=branch, customer=customer, staff=lama, service=service, status="confirmed",
        start=at("09:00"), end=at("09:30"), busy_start=at("09:00"), busy_end=at("09:40"), price_amount=15000,
    )  # fmt: skip
    later = bookings.booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("14:00"))
    bookings.booking_confirm(booking_id=later.pk)
    page = open_page(size="phone", lang="ar")
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" of no-show and cancel
    signed_in_at(page, web, day_path(business, branch.pk))

    page.locator(f"[data-booking='{started.pk}']").click()
    assert_fits(page, "ar")
    assert_accessible(page)
    screenshot(page, "calendar-booking-ar-phone", tmp_path)
    page.get_by_test_id("cal-complete").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("cal-status").inner_text() == "مكتمل"

    page.goto(f"/calendar/{business.slug}/bookings/{absent.pk}")
    page.get_by_test_id("cal-no-show").click()
    page.wait_for_load_state()
    absent.refresh_from_db()
    assert absent.status == Booking.Status.NO_SHOW

    page.goto(f"/calendar/{business.slug}/bookings/{later.pk}")
    page.fill("textarea[name=reason]", "الصالون مغلق بعد الظهر")
    page.get_by_test_id("cal-cancel").click()
    page.wait_for_load_state()
    later.refresh_from_db()
    assert later.status == Booking.Status.CANCELLED
    assert later.cancel_reason == "الصالون مغلق بعد الظهر"
    assert "الصالون مغلق بعد الظهر" in page.get_by_test_id("cal-history").inner_text()
    started.refresh_from_db()
    assert started.status == Booking.Status.COMPLETED
    assert not web.pages, web.pages


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_day_and_week_views_are_accessible_and_fit(web, open_page, salon, size, lang, tmp_path):
    business, branch, service, staff, customer = salon
    booking = bookings.booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("12:00"))
    page = open_page(size=size, lang=lang)
    signed_in_at(page, web, day_path(business, branch.pk))
    page.locator(f"[data-booking='{booking.pk}']").wait_for()
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"calendar-day-{lang}-{size}", tmp_path)
    page.goto(f"/calendar/{business.slug}/week?staff={staff.pk}&date={PINNED.date().isoformat()}")
    assert page.get_by_test_id("cal-col").count() == 7
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"calendar-week-{lang}-{size}", tmp_path)
    page.goto("/calendar/")
    page.get_by_test_id("calendar-branch").first.wait_for()
    assert_fits(page, lang)
    assert_accessible(page)
    page.goto(f"/calendar/{business.slug}/new?branch={branch.pk}&staff={staff.pk}&service={service.pk}")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"calendar-new-{lang}-{size}", tmp_path)
    assert not web.pages, web.pages


def test_without_javascript_the_refresh_link_and_the_date_picker_work(web, open_page, salon):
    business, branch, service, staff, customer = salon
    page = open_page(size="phone", lang="en", javascript=False)
    signed_in_at(page, web, day_path(business, branch.pk))
    booking = bookings.booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("13:00"))
    assert page.locator(f"[data-booking='{booking.pk}']").count() == 0  # nothing polls without JavaScript
    page.get_by_test_id("cal-refresh").click()
    page.wait_for_load_state()
    assert page.locator(f"[data-booking='{booking.pk}']").count() == 1
    page.fill("#cal-date-input", "2027-01-14")
    page.get_by_role("button", name="Show").first.click()
    page.wait_for_url("**date=2027-01-14*")
    assert "2027-01-14" in page.get_by_test_id("cal-date").inner_text()
    page.get_by_test_id("cal-prev").click()
    page.wait_for_url("**date=2027-01-13*")
    assert_fits(page, "en")
