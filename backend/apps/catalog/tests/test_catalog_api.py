"""Services and staff through the HTTP API (public, no login)."""

from __future__ import annotations

import pytest

from apps.catalog.tests.factories import ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_services_list_is_a_plain_array_of_active_services_in_display_order(api_client, service, staff):
    later = ServiceFactory(name_en="Beard trim", name_ar="تهذيب اللحية", display_order=5, price_amount=7550)
    ServiceFactory(is_active=False)
    service.display_order = 1
    service.save()

    response = api_client.get("/api/v1/services")

    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body] == [service.pk, later.pk]
    assert body[0] == {
        "id": service.pk,
        "name": "Haircut",
        "description": "A service",
        "name_ar": "قص شعر",
        "name_en": "Haircut",
        "description_ar": "خدمة",
        "description_en": "A service",
        "duration_minutes": 30,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "price": {"amount": 15000, "currency": "SAR"},
        "display_order": 1,
        "staff": [staff.pk],
        "payment_policy": "full",
        "amount_due_online": {"amount": 15000, "currency": "SAR"},
    }
    assert body[1]["price"] == {"amount": 7550, "currency": "SAR"}


def test_names_follow_accept_language(api_client, service):
    arabic = api_client.get("/api/v1/services", HTTP_ACCEPT_LANGUAGE="ar").json()[0]
    english = api_client.get("/api/v1/services", HTTP_ACCEPT_LANGUAGE="en").json()[0]

    assert (arabic["name"], arabic["description"]) == ("قص شعر", "خدمة")
    assert (english["name"], english["description"]) == ("Haircut", "A service")
    assert api_client.get(f"/api/v1/services/{service.pk}", HTTP_ACCEPT_LANGUAGE="ar").json()["name"] == "قص شعر"


def test_an_arabic_request_falls_back_to_english_when_there_is_no_arabic(api_client, business):
    ServiceFactory(name_en="Massage", name_ar="", description_ar="")

    body = api_client.get("/api/v1/services", HTTP_ACCEPT_LANGUAGE="ar").json()[0]

    assert (body["name"], body["description"]) == ("Massage", "A service")


def test_service_detail_and_not_found(api_client, service):
    inactive = ServiceFactory(is_active=False)

    assert api_client.get(f"/api/v1/services/{service.pk}").json()["id"] == service.pk
    for url in (f"/api/v1/services/{inactive.pk}", "/api/v1/services/999999", f"/api/v1/services/{10**30}"):
        response = api_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_staff_list_and_filter_by_service(api_client, service, staff):
    other_service = ServiceFactory()
    inactive_service = ServiceFactory(is_active=False)
    other = StaffFactory(display_name="Omar", services=[other_service, inactive_service], display_order=2)
    StaffFactory(is_active=False, services=[service])
    staff.services.add(inactive_service)

    everyone = api_client.get("/api/v1/staff").json()
    offering = api_client.get(f"/api/v1/staff?service={service.pk}").json()
    nobody = api_client.get(f"/api/v1/staff?service={inactive_service.pk}").json()

    assert everyone == [
        {
            "id": staff.pk,
            "name": "Sara",
            "bio": "Ten years of experience.",
            "photo_url": "",
            "services": [service.pk],  # never an inactive service
            "display_order": 0,
        },
        {
            "id": other.pk,
            "name": "Omar",
            "bio": "Ten years of experience.",
            "photo_url": "",
            "services": [other_service.pk],
            "display_order": 2,
        },
    ]
    assert [s["id"] for s in offering] == [staff.pk]
    assert nobody == []


def test_staff_list_refuses_a_malformed_filter(api_client, business):
    response = api_client.get("/api/v1/staff?service=abc")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "service" in response.json()["error"]["fields"]


def test_staff_detail_and_not_found(api_client, staff):
    inactive = StaffFactory(is_active=False)

    assert api_client.get(f"/api/v1/staff/{staff.pk}").json()["name"] == "Sara"
    assert api_client.get(f"/api/v1/staff/{inactive.pk}").status_code == 404
    assert api_client.get("/api/v1/staff/999999").json() == {
        "error": {"code": "not_found", "message": "No such staff member."}
    }


def test_lists_cost_one_query_whatever_their_length(api_client, service, django_assert_max_num_queries):
    def view_queries(url: str) -> int:
        response = api_client.get(url)
        assert response.status_code == 200
        return int(response["Server-Timing"].split("db;dur=")[1].split('desc="')[1].split(" ")[0])

    StaffFactory(services=[service])
    assert view_queries("/api/v1/services") == 1
    assert view_queries("/api/v1/staff") == 1
    for _ in range(30):
        StaffFactory(services=[ServiceFactory(), service])
    assert view_queries("/api/v1/services") == 1
    assert view_queries("/api/v1/staff") == 1
    with django_assert_max_num_queries(8):  # everything, the rate limiter's cache included
        api_client.get("/api/v1/staff")


def test_lists_are_bounded(api_client, business, monkeypatch):
    from apps.catalog import selectors

    monkeypatch.setattr(selectors, "LIST_LIMIT", 3)
    ServiceFactory.create_batch(5)

    assert len(api_client.get("/api/v1/services").json()) == 3


def test_no_login_needed_and_a_token_is_not_required(api_client, auth_client, customer, service):
    assert api_client.get("/api/v1/services").status_code == 200
    assert auth_client(customer).get("/api/v1/services").status_code == 200
    bad_token = api_client.get("/api/v1/services", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad_token.status_code == 200  # the public catalog ignores credentials
