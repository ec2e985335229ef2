import pytest

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def test_me_requires_a_token(api_client):
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_patch_me_updates_profile_fields(auth_client, customer):
    client = auth_client(customer)
    response = client.patch(
        "/api/v1/me",
        {"name": "نورة", "email": "Noura@Example.com", "language": "en", "notify_sms": False},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "نورة"
    assert body["email"] == "noura@example.com"
    assert body["language"] == "en"
    assert body["notify_sms"] is False
    assert body["role"] == "customer"


def test_patch_me_cannot_change_role_or_phone(auth_client, customer):
    client = auth_client(customer)
    response = client.patch("/api/v1/me", {"role": "manager", "phone": "+966509999999"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.role == "customer"
    assert str(customer.phone) != "+966509999999"


def test_email_is_unique_case_insensitively(auth_client, customer, make_user):
    make_user(email="taken@example.com")
    response = auth_client(customer).patch("/api/v1/me", {"email": "TAKEN@example.com"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_bad_language_is_a_validation_error(auth_client, customer):
    response = auth_client(customer).patch("/api/v1/me", {"language": "fr"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["language"]


def test_createsuperuser_takes_a_phone_number(db):
    from django.core.management import call_command

    call_command("createsuperuser", "--noinput", phone="0500000009", verbosity=0)
    user = User.objects.get(phone="+966500000009")
    assert user.is_superuser
    assert user.is_staff
    assert user.role == "manager"
