"""A business's SMS sender name is what an alphanumeric sender ID can be (Authentica sends only registered ones)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError


@pytest.mark.parametrize("name", ["", "SalonNoor", "Noor Salon", "Dr.Ahmed", "A&B", "Salon-1", "Spa_2", "X"])
def test_a_sender_id_may_be(business, name):
    business.sender_name = name
    business.full_clean()


@pytest.mark.parametrize(
    "name",
    ["12345", "TwelveChars1", "صالون", "Salon  Noor", " Salon", "Salon.", "Salon!", "-Salon", "Sa\nlon"],
)
def test_a_sender_id_may_not_be(business, name):
    business.sender_name = name
    with pytest.raises(ValidationError) as excinfo:
        business.full_clean()
    assert "sender_name" in excinfo.value.message_dict
