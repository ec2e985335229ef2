"""The first tax profile of a business saved by several managers at once (PostgreSQL, one connection per thread,
released together by a barrier): every save succeeds (the one that loses the insert replaces the winner's fields),
and the business has exactly one profile, holding one of the saves whole."""

from __future__ import annotations

import pytest

from apps.core.testing import run_together
from apps.invoicing import profile as profiles
from apps.invoicing.models import TaxProfile
from apps.invoicing.tests.factories import vat_business

pytestmark = pytest.mark.django_db(transaction=True)

BASE = {
    "legal_name_ar": "صالون مواعيد",
    "street": "King Fahd Road",
    "building_number": "1234",
    "district": "Al Olaya",
    "postal_code": "12214",
}


def test_simultaneous_first_saves_leave_one_whole_profile():
    business = vat_business(profile=False)
    racers = 8

    def save(i: int) -> TaxProfile:
        return profiles.tax_profile_save(
            business=business, fields={**BASE, "city": f"City {i}", "building_number": f"{1000 + i}"}
        )

    results = run_together(racers, save)
    assert all(isinstance(r, TaxProfile) for r in results), results
    [stored] = TaxProfile.objects.filter(business=business)
    i = int(stored.city.removeprefix("City "))
    assert stored.building_number == f"{1000 + i}"  # never half of one save and half of another
