"""`customer_get_or_create`: the customer a business books for by phone (the calendar's walk-in booking)."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.accounts.phone import InvalidPhone
from apps.accounts.services import customer_get_or_create

pytestmark = pytest.mark.django_db


def test_a_new_number_creates_a_customer_in_e164():
    user, created = customer_get_or_create(phone="055 111 2233", name="  Wafa ")
    assert created
    assert str(user.phone) == "+966551112233"
    assert user.name == "Wafa"
    assert user.role == User.Role.CUSTOMER


def test_a_known_number_in_any_form_finds_the_same_person_and_keeps_their_name():
    known = User.objects.create_user(phone="+966551112233", name="Noura")
    for typed in ("0551112233", "966551112233", "00966551112233", "+966 55 111 2233"):
        user, created = customer_get_or_create(phone=typed, name="Someone else")
        assert (user.pk, created, user.name) == (known.pk, False, "Noura")


def test_a_known_number_without_a_name_gets_the_one_given():
    known = User.objects.create_user(phone="+966551112233")
    user, _created = customer_get_or_create(phone="0551112233", name="Huda")
    known.refresh_from_db()
    assert user.pk == known.pk
    assert known.name == "Huda"


@pytest.mark.parametrize("typed", ["", "12", "0114567890", "not a phone"])
def test_a_number_that_is_not_a_mobile_one_is_refused(typed):
    with pytest.raises(InvalidPhone):
        customer_get_or_create(phone=typed)
    assert not User.objects.exists()
