"""The business page and the booking flow through the Django test client: what each step shows, that the times
are the API's own availability, the booking made by the API's services (pending payment, or confirmed at once),
a slot taken meanwhile (409 with the nearest free times), the other refusals (4xx, never a 500), sign-in with
`next`, CSRF, and the query budgets of the business page and the times fragment."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.bookings import services as bookings
from apps.bookings.models import Booking
from apps.catalog.models import Business, Service, Staff
from apps.catalog.selectors import business_page_profile, business_profile

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)  # a Tuesday morning, as the browser tests
TOMORROW = (PINNED + timedelta(days=1)).date()


@pytest.fixture
def demo():
    with time_machine.travel(PINNED, tick=False):
        call_command("seed_demo", verbosity=0)
        yield PINNED


def en(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    client.cookies["mawid_lang"] = "en"
    if user is not None:
        client.force_login(user)
    return client


def service(slug: str, name_en: str) -> Service:
    return Service.objects.get(business__slug=slug, name_en=name_en)


def staff(slug: str, name: str) -> Staff:
    return Staff.objects.get(business__slug=slug, display_name=name)


def starts(response) -> list[str]:
    return re.findall(r'data-testid="time" data-start="([^"]+)"', response.content.decode())


def nearest(response) -> list[str]:
    return re.findall(r'data-testid="nearest-time" data-start="([^"]+)"', response.content.decode())


def review_url(slug: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/b/{slug}/book/review?{query}"


# --- the business page --------------------------------------------------------------------------------------------


def test_the_business_page_shows_branches_services_and_staff(demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):  # the business, branches, services, staff, and their two link tables
        page = en().get("/b/noor-salon")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Noor Beauty Salon" in body
    assert "A women&#x27;s salon in Riyadh" in body
    assert body.count('data-testid="branch"') == 2
    assert "https://maps.google.com/?q=24.695300,46.685000" in body
    assert "openstreetmap.org/?mlat=24.695300&amp;mlon=46.685000" in body
    assert body.count('data-testid="service"') == 6
    assert "150 SAR" in body
    assert "800 SAR" in body
    assert "1 h" in body
    assert "45 min" in body
    haircut = service("noor-salon", "Haircut and styling")
    assert f'href="/b/noor-salon/book?service={haircut.pk}"' in body
    assert body.count('data-testid="staff"') == 4
    assert "Nails and pedicure." in body
    assert 'href="/b/noor-salon/poster"' in body
    # Arabic first, Western digits
    arabic = Client().get("/b/noor-salon").content.decode()
    assert "صالون نور للتجميل" in arabic
    assert "150 ر.س" in arabic
    assert 'dir="rtl"' in arabic
    assert not re.search("[٠-٩]", arabic)


def test_the_business_page_query_budget_does_not_grow_with_the_catalog(demo, django_assert_max_num_queries):
    business = Business.objects.get(slug="noor-salon")
    for i in range(20):
        Service.objects.create(business=business, name_en=f"Extra {i}", name_ar=f"إضافي {i}", duration_minutes=30,
                               price_amount=1000 + i)  # fmt: skip
    with django_assert_max_num_queries(6):
        assert en().get("/b/noor-salon").status_code == 200


def test_the_pages_lean_profile_agrees_with_the_apis(demo):
    for slug in ["noor-salon", "jeddah-barber", "dammam-dental", "riyadh-home-care"]:
        lean, api = business_page_profile(slug), business_profile(slug)
        assert [b.pk for b in lean.branches] == [b.pk for b in api.branches]
        assert [(s.pk, s.staff_ids, s.branch_ids) for s in lean.services] == [
            (s.pk, list(s.staff_ids), list(s.branch_ids)) for s in api.services
        ]
        assert [(s.pk, s.service_ids) for s in lean.staff] == [(s.pk, list(s.service_ids)) for s in api.staff]


def test_an_unknown_or_inactive_business_is_a_404_page(demo):
    page = en().get("/b/nobody-here")
    assert page.status_code == 404
    assert "No such business." in page.content.decode()
    Business.objects.filter(slug="jeddah-barber").update(is_active=False)
    assert en().get("/b/jeddah-barber").status_code == 404
    assert en().get("/b/jeddah-barber/book").status_code == 404
    # unlisted: not in search, still reached by its link
    Business.objects.filter(slug="dammam-dental").update(is_listed=False)
    assert en().get("/b/dammam-dental").status_code == 200


# --- the steps ----------------------------------------------------------------------------------------------------


def test_the_service_then_staff_steps_offer_only_who_gives_the_service(demo):
    page = en().get("/b/noor-salon/book")
    assert page.content.decode().count('data-testid="choose-service"') == 6
    haircut = service("noor-salon", "Haircut and styling")
    body = en().get("/b/noor-salon/book", {"service": haircut.pk}).content.decode()
    offered = set(re.findall(r'data-testid="choose-staff" data-staff="(\d+)"', body))
    assert offered == {str(staff("noor-salon", "Lama").pk), str(staff("noor-salon", "Sara").pk)}
    # two branches give it: "anyone" at each
    assert body.count('data-testid="choose-anyone"') == 2
    assert "Anyone at Olaya" in body
    assert "Anyone at Al Malqa" in body


def test_a_staff_member_who_does_not_give_the_service_is_refused(demo):
    haircut = service("noor-salon", "Haircut and styling")
    nouf = staff("noor-salon", "Nouf")  # nails only
    page = en().get("/b/noor-salon/book", {"service": haircut.pk, "staff": nouf.pk})
    assert page.status_code == 400
    assert "does not offer this service" in page.content.decode()
    fragment = en().get("/b/noor-salon/book/times", {"service": haircut.pk, "staff": nouf.pk, "date": TOMORROW})
    assert fragment.status_code == 400
    khalid = staff("jeddah-barber", "Khalid")  # another business's
    assert en().get("/b/noor-salon/book", {"service": haircut.pk, "staff": khalid.pk}).status_code == 404
    assert en().get("/b/noor-salon/book", {"service": 10**9}).status_code == 404
    assert en().get("/b/noor-salon/book", {"service": "x"}).status_code == 400


def test_the_times_are_the_apis_availability_for_one_staff_member(demo, api_client, django_assert_max_num_queries):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    params = {"service": haircut.pk, "staff": lama.pk, "date": TOMORROW.isoformat()}
    with django_assert_max_num_queries(3):  # the staff member with the service and business; schedules; busy time
        fragment = en().get("/b/noor-salon/book/times", params)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    api = api_client.get(f"/api/v1/staff/{lama.pk}/availability", {"service": haircut.pk, "date_from": TOMORROW})
    assert starts(fragment) == [s["start"] for s in api.json()["slots"]]
    assert starts(fragment)
    # the whole page has the same times, the strip and the fragment's address for each date
    page = en().get("/b/noor-salon/book", params)
    assert starts(page) == starts(fragment)
    body = page.content.decode()
    assert 'aria-current="date"' in body
    assert body.count("data-fragment=") == 14
    assert f"/b/noor-salon/book/times?service={haircut.pk}&amp;staff={lama.pk}&amp;date=" in body


def test_the_times_with_anyone_are_the_apis_for_that_branch(demo, api_client, django_assert_max_num_queries):
    haircut = service("noor-salon", "Haircut and styling")
    malqa = staff("noor-salon", "Sara").branch
    params = {"service": haircut.pk, "staff": "any", "branch": malqa.pk, "date": TOMORROW.isoformat()}
    with django_assert_max_num_queries(5):  # the service and business; branches; who gives it; schedules; busy
        fragment = en().get("/b/noor-salon/book/times", params)
    api = api_client.get(
        "/api/v1/businesses/noor-salon/availability", {"service": haircut.pk, "branch": malqa.pk, "date": TOMORROW}
    )
    assert starts(fragment) == [s["start"] for s in api.json()["slots"]]
    assert starts(fragment)
    # several branches and none chosen: asked to choose
    del params["branch"]
    assert en().get("/b/noor-salon/book/times", params).status_code == 400


def test_the_strip_marks_dates_without_free_times_and_opens_on_the_first_with_some(demo):
    checkup = service("dammam-dental", "Check-up and cleaning")
    Business.objects.filter(slug="dammam-dental").update(min_notice_minutes=24 * 60)  # nothing left today
    page = en().get("/b/dammam-dental/book", {"service": checkup.pk, "staff": "any"})
    body = page.content.decode()
    empty = re.findall(r'data-date="([\d-]+)" aria-label="[^"]*" class="none" data-empty="1"', body)
    assert PINNED.date().isoformat() in empty
    strip = re.findall(r'data-date="([\d-]+)"', body)
    assert len(strip) == 14
    for day in strip:  # each date is marked exactly when its own times are none
        params = {"service": checkup.pk, "staff": "any", "date": day}
        assert (day in empty) == (not starts(en().get("/b/dammam-dental/book/times", params))), day
    assert re.search(rf'data-date="{empty[-1]}" aria-label="[^"]*, no free times"', body)
    chosen = re.search(r'data-date="([\d-]+)"[^>]*aria-current="date"', body).group(1)
    assert chosen == TOMORROW.isoformat()  # no date asked: the first with a free time
    assert starts(page) == starts(en().get("/b/dammam-dental/book/times", {"service": checkup.pk, "staff": "any",
                                                                          "date": TOMORROW}))  # fmt: skip
    assert starts(page)


def test_today_respects_the_notice_and_a_date_outside_the_window_is_refused(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    today = en().get("/b/noor-salon/book/times", {"service": haircut.pk, "staff": lama.pk})
    notice = Business.objects.get(slug="noor-salon").min_notice
    assert all(datetime.fromisoformat(s) >= PINNED + notice for s in starts(today))
    for day in [PINNED.date() - timedelta(days=1), PINNED.date() + timedelta(days=61), "2027-13-01"]:
        params = {"service": haircut.pk, "staff": lama.pk, "date": str(day)}
        fragment = en().get("/b/noor-salon/book/times", params)
        assert fragment.status_code == 400, day
        assert 'data-testid="times-error"' in fragment.content.decode()
        page = en().get("/b/noor-salon/book", params)
        assert page.status_code == 400
        assert 'data-testid="step-error"' in page.content.decode()
        assert 'data-testid="date-strip"' in page.content.decode()


# --- sign in, review, confirm ---------------------------------------------------------------------------------


def first_time(slug: str, service_id: int, staff_param, day=TOMORROW, **extra) -> str:
    params = {"service": service_id, "staff": staff_param, "date": day.isoformat(), **extra}
    found = starts(en().get(f"/b/{slug}/book/times", params))
    assert found
    return found[0]


def test_a_time_asks_an_anonymous_visitor_to_sign_in_and_comes_back(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    start = first_time("noor-salon", haircut.pk, lama.pk)
    url = review_url("noor-salon", service=haircut.pk, staff=lama.pk, start=start[:16])
    page = en().get(url)
    assert page.status_code == 302
    location = urlsplit(page["Location"])
    assert location.path == "/login"
    assert unquote(parse_qs(location.query)["next"][0]) == url
    # the login form carries it on to the code step, with every parameter intact
    client = en()
    sent = client.post("/login", {"phone": "0551234567", "channel": "sms", "next": url})
    assert sent.status_code == 302
    assert parse_qs(urlsplit(sent["Location"]).query)["next"] == [url]
    # an anonymous confirm goes to sign-in too, and writes nothing
    posted = en().post("/b/noor-salon/book/confirm", {"service": haircut.pk, "staff": lama.pk, "start": start[:16]})
    assert posted.status_code == 302
    assert posted["Location"].startswith("/login?next=")
    assert not Booking.objects.filter(start=datetime.fromisoformat(start)).exists()


def test_review_then_confirm_makes_a_booking_waiting_for_payment(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    customer = UserFactory()
    client = en(customer)
    start = first_time("noor-salon", haircut.pk, lama.pk)
    review = client.get(review_url("noor-salon", service=haircut.pk, staff=lama.pk, start=start[:16]))
    assert review.status_code == 200
    body = review.content.decode()
    assert "Noor Beauty Salon" in body
    assert "Olaya" in body
    assert "Haircut and styling" in body
    assert "Lama" in body
    assert "Wednesday 13 January 2027" in body
    assert 'data-testid="review-hijri">5 Sha&#x27;ban 1448 AH</dd>' in body  # the Umm al-Qura date beside it
    assert start[11:16] in body
    assert "150 SAR" in body
    assert 'name="csrfmiddlewaretoken"' in body
    done = client.post("/b/noor-salon/book/confirm", {"service": haircut.pk, "staff": lama.pk, "start": start[:16]})
    booking = Booking.objects.get(customer=customer)
    assert done.status_code == 302
    assert done["Location"] == f"/my/bookings/{booking.pk}/pay"
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.staff_id == lama.pk
    assert booking.service_id == haircut.pk
    assert booking.start == datetime.fromisoformat(start)
    assert booking.price_amount == 15000


def test_anyone_books_a_free_staff_member_of_that_branch(demo):
    haircut = service("noor-salon", "Haircut and styling")
    malqa = staff("noor-salon", "Sara").branch
    customer = UserFactory()
    start = first_time("noor-salon", haircut.pk, "any", branch=malqa.pk)
    client = en(customer)
    review = client.get(review_url("noor-salon", service=haircut.pk, staff="any", branch=malqa.pk, start=start[:16]))
    assert review.status_code == 200
    assert "Anyone available" in review.content.decode()
    done = client.post(
        "/b/noor-salon/book/confirm", {"service": haircut.pk, "staff": "any", "branch": malqa.pk, "start": start[:16]}
    )
    booking = Booking.objects.get(customer=customer)
    assert done["Location"] == f"/my/bookings/{booking.pk}/pay"
    assert booking.branch_id == malqa.pk
    assert booking.staff.branch_id == malqa.pk


def test_a_business_that_confirms_at_once_goes_to_the_booking(demo):
    checkup = service("dammam-dental", "Check-up and cleaning")
    customer = UserFactory()
    start = first_time("dammam-dental", checkup.pk, "any")  # one branch: no branch to choose
    done = en(customer).post("/b/dammam-dental/book/confirm", {"service": checkup.pk, "staff": "any", "start": start[:16]})
    booking = Booking.objects.get(customer=customer)
    assert done["Location"] == f"/my/bookings/{booking.pk}"
    assert booking.status == Booking.Status.CONFIRMED


def test_a_slot_taken_meanwhile_offers_the_nearest_free_times(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    start = first_time("noor-salon", haircut.pk, lama.pk)
    data = {"service": haircut.pk, "staff": lama.pk, "start": start[:16]}
    first, second = UserFactory(), UserFactory()
    assert en(second).get(review_url("noor-salon", **data)).status_code == 200  # both see the review page
    assert en(first).post("/b/noor-salon/book/confirm", data).status_code == 302
    page = en(second).post("/b/noor-salon/book/confirm", data)
    assert page.status_code == 409
    body = page.content.decode()
    assert body.count("this time was just taken") == 1
    offered = nearest(page)
    assert offered
    assert start not in offered
    assert start not in starts(page)
    assert all(abs(datetime.fromisoformat(s) - datetime.fromisoformat(start)) <= timedelta(hours=3) for s in offered)
    assert not Booking.objects.filter(customer=second).exists()
    # the review page of a time already taken says so at once
    again = en(second).get(review_url("noor-salon", **data))
    assert again.status_code == 409
    assert "this time was just taken" in again.content.decode()


def test_the_customer_limits_are_the_apis_and_explained(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    Business.objects.filter(slug="noor-salon").update(max_pending_per_customer=1)
    customer = UserFactory()
    business = Business.objects.get(slug="noor-salon")
    free = starts(en().get("/b/noor-salon/book/times", {"service": haircut.pk, "staff": lama.pk, "date": TOMORROW}))
    bookings.booking_create(customer=customer, staff_id=lama.pk, service=haircut, start=datetime.fromisoformat(free[0]),
                            business=business)  # fmt: skip
    page = en(customer).post(
        "/b/noor-salon/book/confirm", {"service": haircut.pk, "staff": lama.pk, "start": free[-1][:16]}
    )
    assert page.status_code == 409
    assert "too many unpaid bookings" in page.content.decode()
    assert Booking.objects.filter(customer=customer).count() == 1


def test_bad_input_on_confirm_is_a_clear_4xx(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    customer = UserFactory()
    client = en(customer)
    for data, status in [
        ({"service": haircut.pk, "staff": lama.pk, "start": "yesterday"}, 400),
        ({"service": haircut.pk, "staff": lama.pk}, 400),
        ({"service": haircut.pk, "staff": staff("noor-salon", "Nouf").pk, "start": "2027-01-13T12:00"}, 400),
        ({"service": 10**9, "staff": lama.pk, "start": "2027-01-13T12:00"}, 404),
        ({"service": haircut.pk, "staff": lama.pk, "start": "2027-01-13T03:07"}, 409),  # not a slot
    ]:
        page = client.post("/b/noor-salon/book/confirm", data)
        assert page.status_code == status, (data, page.status_code)
    assert not Booking.objects.filter(customer=customer).exists()
    home = Service.objects.filter(business__slug="riyadh-home-care").first()
    start = first_time("riyadh-home-care", home.pk, "any")
    page = client.post("/b/riyadh-home-care/book/confirm", {"service": home.pk, "staff": "any", "start": start[:16]})
    assert page.status_code == 400
    assert "give the address" in page.content.decode()


def test_confirm_is_csrf_protected(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    customer = UserFactory()
    client = en(customer, enforce_csrf_checks=True)
    start = first_time("noor-salon", haircut.pk, lama.pk)
    data = {"service": haircut.pk, "staff": lama.pk, "start": start[:16]}
    assert client.post("/b/noor-salon/book/confirm", data).status_code == 403
    assert not Booking.objects.filter(customer=customer).exists()
    review = client.get(review_url("noor-salon", **data)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', review).group(1)
    done = client.post("/b/noor-salon/book/confirm", {**data, "csrfmiddlewaretoken": token})
    assert done.status_code == 302
    assert Booking.objects.filter(customer=customer, status=Booking.Status.PENDING_PAYMENT).exists()


def test_the_review_shows_the_hijri_date_in_arabic(demo):
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    client = en(UserFactory())
    client.cookies["mawid_lang"] = "ar"
    start = first_time("noor-salon", haircut.pk, lama.pk)
    body = client.get(review_url("noor-salon", service=haircut.pk, staff=lama.pk, start=start[:16])).content.decode()
    assert "<dt>التاريخ الهجري</dt>" in body
    assert 'data-testid="review-hijri">5 شعبان 1448 هـ</dd>' in body
