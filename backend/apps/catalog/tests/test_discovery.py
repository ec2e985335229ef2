"""Discovery (`GET /api/v1/businesses`), a business's page and its own catalog paths, and the single-business
paths once there are several businesses."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from apps.catalog import discovery
from apps.catalog.models import Business, ScheduleException
from apps.catalog.tests.factories import BranchFactory, BusinessFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
URL = "/api/v1/businesses"


def _business(slug: str, *, lat: float | None = 24.7136, lng: float | None = 46.6753, city: str = "Riyadh", **kw):
    business = BusinessFactory(slug=slug, name_en=kw.pop("name_en", slug.title()), branch=False, **kw)
    BranchFactory(business=business, latitude=lat, longitude=lng, city=city)
    return business


def _staffed(business: Business, **service_kw):
    service = ServiceFactory(business=business, **service_kw)
    staff = StaffFactory(business=business, services=[service])
    return service, staff


def _view_queries(response) -> int:
    return int(response["Server-Timing"].split("db;dur=")[1].split('desc="')[1].split(" ")[0])


# --- filters and order --------------------------------------------------------------------------------------


def test_near_orders_by_distance_and_gives_it_in_km(api_client):
    far = _business("far", lat=24.8136, lng=46.6753)  # ~11.1 km north
    near = _business("near", lat=24.7226, lng=46.6753)  # ~1.0 km north
    _business("jeddah", lat=21.5433, lng=39.1728, city="Jeddah")  # ~850 km: outside the default 50 km
    mid = _business("mid", lat=24.7136, lng=46.7253)  # ~5.1 km east

    body = api_client.get(URL, {"near": "24.7136,46.6753"}).json()

    assert [r["slug"] for r in body["results"]] == [near.slug, mid.slug, far.slug]
    assert [r["distance_km"] for r in body["results"]] == [1.0, 5.1, 11.1]
    assert body["count"] == 3
    wide = api_client.get(URL, {"near": "24.7136,46.6753", "radius_km": 900}).json()
    assert [r["slug"] for r in wide["results"]][-1] == "jeddah"
    assert wide["results"][-1]["distance_km"] == pytest.approx(849, abs=5)
    assert "distance_km" not in api_client.get(URL).json()["results"][0]


def test_a_business_is_as_near_as_its_nearest_branch(api_client):
    chain = _business("chain", lat=24.9, lng=46.6753)  # ~21 km
    BranchFactory(business=chain, latitude=24.7136, longitude=46.6853, city="Riyadh", district="Olaya")  # ~1 km
    _business("single", lat=24.7336, lng=46.6753)  # ~2.2 km

    results = api_client.get(URL, {"near": "24.7136,46.6753"}).json()["results"]

    assert [(r["slug"], r["distance_km"]) for r in results] == [("chain", 1.0), ("single", 2.2)]
    assert results[0]["district"] == "Olaya"
    assert results[0]["branch_count"] == 2


def test_only_active_listed_businesses_are_found(api_client):
    _business("shown")
    _business("hidden", is_listed=False)
    _business("closed", is_active=False)

    assert [r["slug"] for r in api_client.get(URL).json()["results"]] == ["shown"]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("احمد", {"ahmed"}),  # stored أحمد
        ("أحمد", {"ahmed"}),
        ("إحمد", {"ahmed"}),
        ("آحمد", {"ahmed"}),
        ("مدرسة", {"school"}),  # stored مدرسه
        ("مستشفى", {"hospital"}),  # stored مستشفي
        ("كـــريم", {"karim"}),
        ("مُحَمَّد", {"muhammad"}),
        ("AHMED salon", {"ahmed"}),  # English, any case, every word
        ("salon", {"ahmed", "karim"}),
        ("قص", {"karim"}),  # a service's name
        ("malqa", {"school"}),  # a branch's district
        ("الرياض", {"ahmed", "karim", "muhammad", "school"}),  # "Riyadh" branches found by the Arabic name
        ("jeddah", {"hospital"}),  # and the other way round (stored جدة)
        ("50%", set()),  # LIKE's wildcards are text
    ],
)
def test_q_matches_arabic_the_way_people_type_it(api_client, q, found):
    _business("ahmed", name_ar="صالون أحمد", name_en="Ahmed Salon")
    karim = _business("karim", name_ar="كريم", name_en="Karim Salon")
    ServiceFactory(business=karim, name_ar="قص الشعر", name_en="Haircut")
    school = _business("school", name_ar="مدرسه التجميل", name_en="Beauty school")
    school.branches.update(district="Al Malqa")
    school.branches.first().save()  # a branch saved: the business's search text follows
    _business("hospital", name_ar="مستشفي الاسنان", name_en="Dental care", city="جدة")
    _business("muhammad", name_ar="محمد", name_en="Barber M")

    results = api_client.get(URL, {"q": q}).json()["results"]

    assert {r["slug"] for r in results} == found


def test_city_category_and_service_filters(api_client):
    riyadh_salon = _business("riyadh-salon", city="الرياض")
    ServiceFactory(business=riyadh_salon, name_ar="قص شعر", name_en="Haircut")
    riyadh_clinic = _business("riyadh-clinic", city="Riyadh", category=Business.Category.DENTAL)
    ServiceFactory(business=riyadh_clinic, name_ar="تنظيف الأسنان", name_en="Teeth cleaning")
    jeddah_salon = _business("jeddah-salon", city="Jeddah")
    ServiceFactory(business=jeddah_salon, name_ar="قص شعر", name_en="Haircut")
    ServiceFactory(business=riyadh_clinic, name_en="Old haircut", name_ar="قديم", is_active=False)
    home = _business("home", city="Dammam", serves_at_home=True, service_area=["الرياض"])

    def slugs(**params) -> set[str]:
        response = api_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {r["slug"] for r in response.json()["results"]}

    assert slugs(city="Riyadh") == {"riyadh-salon", "riyadh-clinic", home.slug}
    assert slugs(city="رياض") == {"riyadh-salon", "riyadh-clinic", home.slug}
    assert slugs(city="جدة") == {"jeddah-salon"}
    assert slugs(category="dental") == {"riyadh-clinic"}
    assert slugs(service="haircut") == {"riyadh-salon", "jeddah-salon"}  # an inactive service does not count
    assert slugs(service="قص", city="riyadh") == {"riyadh-salon"}
    assert slugs(service="اسنان") == {"riyadh-clinic"}


@pytest.mark.parametrize(
    "params",
    [
        {"near": "24.7"},
        {"near": "abc,def"},
        {"near": "91,46"},
        {"near": "nan,46"},
        {"near": "24.7,46.6", "radius_km": 0},
        {"category": "casino"},
        {"page": 0},
        {"page": 10_000},
        {"page_size": 500},
    ],
)
def test_bad_search_parameters_are_400(api_client, params):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_pages_of_results(api_client):
    for i in range(25):
        _business(f"b{i:02d}")

    first = api_client.get(URL).json()
    second = api_client.get(first["next"]).json()

    assert first["count"] == 25
    assert not first["count_capped"]
    assert len(first["results"]) == discovery.PAGE_SIZE
    assert first["previous"] is None
    assert [r["slug"] for r in second["results"]] == [f"b{i:02d}" for i in range(20, 25)]
    assert second["next"] is None
    assert second["previous"] is not None


# --- price range, rating, next available -----------------------------------------------------------------------


def test_each_result_has_its_price_range_and_a_rating_placeholder(api_client):
    salon = _business("salon-x")
    ServiceFactory(business=salon, price_amount=5000)
    ServiceFactory(business=salon, price_amount=25000)
    ServiceFactory(business=salon, price_amount=99999, is_active=False)
    _business("empty")

    results = {r["slug"]: r for r in api_client.get(URL).json()["results"]}

    assert results["salon-x"]["price_range"] == {
        "min": {"amount": 5000, "currency": "SAR"},
        "max": {"amount": 25000, "currency": "SAR"},
    }
    assert results["salon-x"]["rating"] == {"average": None, "count": 0}
    assert results["empty"]["price_range"] is None
    assert results["empty"]["next_available"] is None


def _first_slot(api_client, business: Business, service_id: int, *, days: int = 7):
    """The first slot `GET /businesses/SLUG/availability` lists, date by date from today."""
    today = timezone.now().astimezone(RIYADH).date()
    for offset in range(days):
        body = api_client.get(
            f"{URL}/{business.slug}/availability", {"service": service_id, "date": today + timedelta(days=offset)}
        ).json()
        if body["slots"]:
            return body["slots"][0]
    return None


@pytest.mark.parametrize("clock", ["05:00", "10:07", "16:30", "23:50"])
def test_next_available_is_the_first_slot_of_the_business_availability(api_client, clock):
    now = datetime.combine(timezone.now().astimezone(RIYADH).date(), time.fromisoformat(clock), tzinfo=RIYADH)
    with time_machine.travel(now, tick=False):
        business = _business("busy")
        short, ann = _staffed(business, duration_minutes=30)
        long = ServiceFactory(business=business, duration_minutes=90)
        bob = StaffFactory(business=business, services=[short, long])
        tomorrow = now.date() + timedelta(days=1)
        # Tomorrow both are away at 09:00-09:30 and Ann until 10:00: the first "anyone" slot is 09:30 with Bob.
        # (test_booking_anyone checks the same with bookings.)
        nine = datetime.combine(tomorrow, time(9), tzinfo=RIYADH)
        for who, minutes in ((ann, 60), (bob, 30)):
            ScheduleException.objects.create(
                staff=who, business=business, start=nine - timedelta(hours=1), end=nine + timedelta(minutes=minutes)
            )

        found = api_client.get(URL).json()["results"][0]["next_available"]
        expected = _first_slot(api_client, business, short.pk)

    assert found is not None
    assert expected is not None
    assert found["start"] == expected["start"]
    assert found["service"] == short.pk  # the shortest service
    assert found["staff"] == expected["staff"]
    if clock in ("16:30", "23:50"):  # 2 hours' notice: nothing left today
        assert found["start"] == (nine + timedelta(minutes=30)).isoformat()
        assert found["staff"] == [bob.pk]


def test_next_available_skips_days_off_and_follows_the_service_filter(api_client):
    now = datetime.combine(timezone.now().astimezone(RIYADH).date(), time(18), tzinfo=RIYADH)
    with time_machine.travel(now, tick=False):
        business = _business("away")
        service, staff = _staffed(business, name_en="Haircut", name_ar="قص", duration_minutes=30)
        colour = ServiceFactory(business=business, name_en="Colour", name_ar="صبغة", duration_minutes=120)
        staff.services.add(colour)
        day_after = now.date() + timedelta(days=2)
        ScheduleException.objects.create(
            staff=staff,
            business=business,
            start=datetime.combine(now.date(), time(0), tzinfo=RIYADH),
            end=datetime.combine(day_after, time(0), tzinfo=RIYADH),
        )

        response = api_client.get(URL)
        any_service = response.json()["results"][0]["next_available"]
        for_colour = api_client.get(URL, {"service": "صبغه"}).json()["results"][0]["next_available"]

    assert any_service == {
        "start": datetime.combine(day_after, time(9), tzinfo=RIYADH).isoformat(),
        "service": service.pk,
        "staff": [staff.pk],
    }
    # Nothing today or tomorrow: a second round of schedules (and bookings) for the rest of the week.
    assert _view_queries(response) == 6  # page, count, branches, services, schedules x 2 (bookings: a stand-in)
    assert for_colour["service"] == colour.pk
    assert for_colour["start"] == any_service["start"]


def test_no_next_available_within_the_week(api_client):
    business = _business("nobody-works")
    service = ServiceFactory(business=business)
    StaffFactory(business=business, services=[service], hours=[])

    assert api_client.get(URL).json()["results"][0]["next_available"] is None


def test_a_page_costs_the_same_queries_whatever_its_size(api_client, django_assert_num_queries):
    def page_queries() -> int:
        response = api_client.get(URL, {"near": "24.7136,46.6753"})
        assert response.status_code == 200
        assert all(r["next_available"] for r in response.json()["results"])
        return _view_queries(response)

    for i in range(2):
        _staffed(_business(f"small-{i}", lat=24.7 + i / 100))
    small = page_queries()
    for i in range(20):
        business = _business(f"big-{i}", lat=24.71 + i / 1000)
        service, _staff = _staffed(business)
        BranchFactory(business=business, latitude=24.72, longitude=46.7)
        StaffFactory.create_batch(3, business=business, services=[service])

    # Page, count, branches, services, schedules (+ the bookings' busy time, 6 in all: here the catalog tests'
    # stand-in for bookings answers without a query; test_booking_anyone counts the real one).
    assert small == page_queries() == 5
    with django_assert_num_queries(5):
        discovery.business_search(discovery.Search(q="big"))
    with django_assert_num_queries(2):  # nothing found: the page and the count
        discovery.business_search(discovery.Search(q="nothing like it"))


# --- a business's page and catalog ------------------------------------------------------------------------------


def test_business_detail_with_branches_services_and_staff(api_client, django_assert_num_queries):
    business = _business("detail", name_ar="صالون", description_ar="وصف", description_en="About")
    second = BranchFactory(business=business, name_en="North", latitude=None, longitude=None, display_order=5)
    BranchFactory(business=business, is_active=False)
    service = ServiceFactory(business=business, name_en="Cut", name_ar="قص", description_en="Short", price_amount=8000)
    service.branches.add(second)
    staff = StaffFactory(
        business=business, services=[service], branch=second, bio="Bio", photo_url="https://x.test/p.jpg"
    )
    _business("other")  # not in the answer

    body = api_client.get(f"{URL}/detail", HTTP_ACCEPT_LANGUAGE="ar").json()

    assert body["slug"] == "detail"
    assert body["name"] == "صالون"
    assert body["description"] == "وصف"
    main = business.branches.order_by("display_order", "id").first()
    assert [b["id"] for b in body["branches"]] == [main.pk, second.pk]
    assert body["branches"][0]["map_url"].startswith("https://maps.google.com/?q=24.713600,46.675300")
    assert body["branches"][1]["map_url"] == ""
    assert body["services"] == [
        {
            "id": service.pk,
            "name": "قص",
            "description": service.description_ar,
            "name_ar": "قص",
            "name_en": "Cut",
            "description_ar": service.description_ar,
            "description_en": "Short",
            "duration_minutes": 30,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "price": {"amount": 8000, "currency": "SAR"},
            "display_order": 0,
            "staff": [staff.pk],
            "payment_policy": "full",
            "amount_due_online": {"amount": 8000, "currency": "SAR"},
            "branches": [second.pk],
        }
    ]
    assert body["staff"][0] == {
        "id": staff.pk,
        "name": staff.display_name,
        "bio": "Bio",
        "photo_url": "https://x.test/p.jpg",
        "services": [service.pk],
        "display_order": 0,
        "branch": second.pk,
    }
    assert body["rating"] == {"average": None, "count": 0}
    with django_assert_num_queries(4):
        from apps.catalog.selectors import business_profile

        business_profile("detail")


@pytest.mark.parametrize("slug", ["nope", "unlisted", "inactive"])
def test_unknown_unlisted_or_inactive_business_is_404(api_client, slug):
    _business("unlisted", is_listed=False)
    _business("inactive", is_active=False)

    for path in ("", "/services", "/staff", "/availability?service=1"):
        response = api_client.get(f"{URL}/{slug}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_business_paths_answer_for_that_business_only(api_client):
    a, b = _business("a"), _business("b")
    service_a, staff_a = _staffed(a)
    service_b, staff_b = _staffed(b)

    assert [s["id"] for s in api_client.get(f"{URL}/a/services").json()] == [service_a.pk]
    assert [s["id"] for s in api_client.get(f"{URL}/b/staff").json()] == [staff_b.pk]
    assert api_client.get(f"{URL}/a/staff", {"service": service_b.pk}).json() == []
    other = api_client.get(f"{URL}/a/availability", {"service": service_b.pk})
    assert other.status_code == 404
    day = timezone.now().astimezone(RIYADH).date() + timedelta(days=2)
    mine = api_client.get(f"{URL}/a/availability", {"service": service_a.pk, "date": day}).json()
    assert mine["staff"] == [staff_a.pk]
    assert mine["slots"][0]["staff"] == [staff_a.pk]
    # The paths that name a staff member or a service by id keep working by id, whatever the business.
    assert api_client.get(f"/api/v1/staff/{staff_b.pk}/availability", {"service": service_b.pk}).status_code == 200
    assert api_client.get(f"/api/v1/services/{service_b.pk}").status_code == 200
    assert api_client.get("/api/v1/availability", {"service": service_b.pk, "date": day}).json()["staff"] == [
        staff_b.pk
    ]
    assert [s["id"] for s in api_client.get("/api/v1/staff", {"service": service_a.pk}).json()] == [staff_a.pk]


def test_business_availability_leaves_out_branches_where_the_service_is_not_offered(api_client):
    business = _business("two-branches")
    north = BranchFactory(business=business, name_en="North")
    service = ServiceFactory(business=business)
    service.branches.add(north)
    at_north = StaffFactory(business=business, branch=north, services=[service])
    StaffFactory(business=business, services=[service])  # at the main branch, where it is not offered
    day = timezone.now().astimezone(RIYADH).date() + timedelta(days=2)

    body = api_client.get(f"{URL}/two-branches/availability", {"service": service.pk, "date": day}).json()
    only_main = api_client.get(
        f"{URL}/two-branches/availability",
        {"service": service.pk, "date": day, "branch": business.branches.exclude(pk=north.pk).first().pk},
    ).json()

    assert body["staff"] == [at_north.pk]
    assert only_main["staff"] == []
    assert only_main["slots"] == []


# --- the single-business paths ------------------------------------------------------------------------------------


def test_with_several_businesses_the_single_business_lists_need_one_named(api_client):
    _staffed(_business("one"))
    _staffed(_business("two"))

    for path in ("/api/v1/services", "/api/v1/staff"):
        response = api_client.get(path)
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "business_required"
        assert "/api/v1/businesses/SLUG/services" in error["message"]


def test_with_one_active_business_the_single_business_lists_answer_for_it(api_client):
    mine = _business("mine")
    service, staff = _staffed(mine)
    closed = _business("closed", is_active=False)
    _staffed(closed)  # an inactive business's rows are not listed

    assert [s["id"] for s in api_client.get("/api/v1/services").json()] == [service.pk]
    assert [s["id"] for s in api_client.get("/api/v1/staff").json()] == [staff.pk]


def test_with_no_business_the_lists_are_empty(api_client):
    assert api_client.get("/api/v1/services").json() == []
    assert api_client.get("/api/v1/staff").json() == []


# --- the search text is kept fresh --------------------------------------------------------------------------------


def test_search_text_follows_services_and_branches(api_client):
    business = _business("fresh")
    service = ServiceFactory(business=business, name_en="Massage", name_ar="مساج")

    assert {r["slug"] for r in api_client.get(URL, {"q": "massage"}).json()["results"]} == {"fresh"}
    service.is_active = False
    service.save()
    assert api_client.get(URL, {"q": "massage"}).json()["results"] == []
    branch = business.branches.get()
    branch.city = "Abha"
    branch.save()
    assert {r["slug"] for r in api_client.get(URL, {"city": "أبها"}).json()["results"]} == {"fresh"}
    assert api_client.get(URL, {"city": "Riyadh"}).json()["results"] == []
    business.name_en = "Renamed"
    business.save(update_fields=["name_en"])
    assert {r["slug"] for r in api_client.get(URL, {"q": "renamed abha"}).json()["results"]} == {"fresh"}


def test_refresh_search_catches_up_with_rows_written_in_bulk(api_client):
    from django.core.management import call_command

    from apps.catalog.models import Service

    business = _business("bulk")
    Service.objects.bulk_create(
        [Service(business=business, name_en="Henna", name_ar="حناء", duration_minutes=30, price_amount=1)]
    )
    assert api_client.get(URL, {"service": "henna"}).json()["results"] == []

    call_command("refresh_search", stdout=None)

    assert [r["slug"] for r in api_client.get(URL, {"service": "henna"}).json()["results"]] == ["bulk"]
    assert [r["slug"] for r in api_client.get(URL, {"q": "حنا"}).json()["results"]] == ["bulk"]
