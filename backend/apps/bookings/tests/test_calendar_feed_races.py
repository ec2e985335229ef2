"""A staff member's feed address made from several places at once (two phones, a retried request): real parallel
connections on PostgreSQL. Every request succeeds, one row remains, and only one address works: the last one."""

from __future__ import annotations

import pytest

from apps.bookings.calendar_feed import feed_staff_for_token, feed_token_issue
from apps.bookings.models import CalendarFeedToken
from apps.core.testing import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("round_", range(3))
def test_simultaneous_new_addresses_leave_one_that_works(staff, round_):
    if round_ % 2:
        feed_token_issue(staff)  # rotating an existing feed, as well as making the first one
    tokens = run_together(6, lambda i: feed_token_issue(staff))
    assert all(isinstance(token, str) for token in tokens), tokens
    assert CalendarFeedToken.objects.filter(staff=staff).count() == 1
    working = [token for token in tokens if feed_staff_for_token(token) is not None]
    assert len(working) == 1
    assert feed_staff_for_token(working[0]).pk == staff.pk
