"""API authentication (apps/accounts/authentication.py): simplejwt's checks, with the user loaded by one query
written once instead of an ORM query compiled on every request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from phonenumber_field.phonenumber import PhoneNumber
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.authentication import user_for_token

pytestmark = pytest.mark.django_db


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_token_loads_its_user_in_one_query_as_the_orm_would(auth_client, customer):
    with CaptureQueriesContext(connection) as queries:
        response = auth_client(customer).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["phone"] == str(customer.phone)
    assert len([q for q in queries.captured_queries if '"accounts_user"' in q["sql"]]) == 1
    user = user_for_token(customer.pk)
    assert user is not None
    assert isinstance(user.phone, PhoneNumber)  # through the field's from_db_value, like the ORM
    assert [getattr(user, f.attname) for f in user._meta.concrete_fields] == [
        getattr(customer, f.attname) for f in customer._meta.concrete_fields
    ]
    assert user._state.adding is False


def test_an_inactive_user_is_refused(auth_client, customer):
    client = auth_client(customer)
    customer.is_active = False
    customer.save()

    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"  # as with simplejwt's class


def test_a_deleted_user_or_a_token_without_a_usable_user_id_is_refused(customer):
    token = AccessToken.for_user(customer)
    missing = AccessToken.for_user(customer)
    missing["user_id"] = customer.pk + 1000
    garbage = AccessToken.for_user(customer)
    garbage["user_id"] = "not-a-number"
    nameless = AccessToken.for_user(customer)
    del nameless["user_id"]

    for bad in (missing, garbage, nameless):
        response = _client(str(bad)).get("/api/v1/me")
        assert response.status_code == 401, (bad, response.json())
    assert _client(str(token)).get("/api/v1/me").status_code == 200
