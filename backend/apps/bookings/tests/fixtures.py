"""The salon's people for booking-related tests: customers and a manager (with the salon's business set up). The
salon itself (business, service, staff, `day`, `at`) is `apps.catalog.tests.fixtures`, loaded for every test by
`backend/conftest.py`.

Conftests import what they use by name (`from apps.bookings.tests.fixtures import customer, ...`): these replace the
suite-wide `customer` and `manager` of `backend/conftest.py` for their tests.
"""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Membership
from apps.catalog.tests.factories import MembershipFactory
from apps.catalog.tests.fixtures import RIYADH  # noqa: F401 - tests import it from here


@pytest.fixture
def customer(business) -> User:
    return UserFactory.create(name="Customer")


@pytest.fixture
def other_customer(business) -> User:
    return UserFactory.create(name="Other customer")


@pytest.fixture
def manager(business) -> User:
    user = UserFactory.create(role=User.Role.MANAGER, name="Manager", is_staff=True)
    MembershipFactory.create(business=business, user=user, role=Membership.Role.MANAGER)
    return user
