"""The waitlist in the admin: a manager reads their business's line (filter by status and service, search by the
customer's phone however typed, or name) and its offers, read-only; another business's rows are not there (the
full cross-business table is config/tests/test_admin_isolation.py); a staff member has no waitlist pages."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.catalog.tests.factories import ServiceFactory
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.services import waitlist_join, waitlist_offer_free_slots
from apps.waitlist.tests.conftest import free

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/waitlist/waitlistentry/"
OFFERS = "/admin/waitlist/waitlistoffer/"


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


@pytest.fixture
def offered(business, blocker, at, line) -> WaitlistOffer:
    business.require_payment = False
    business.save()
    taken = blocker(at("10:00"))
    line(1, at="10:00")
    free(taken)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    return offer


def test_a_manager_reads_the_line_filters_it_and_finds_a_customer_by_phone(manager, service, staff, day, line):
    sara = UserFactory(name="Sara Qahtani", phone="+966501112233")
    colour = ServiceFactory(name_en="Colour", name_ar="صبغة")
    staff.services.add(colour)
    hers = waitlist_join(customer=sara, service=colour, staff_id=None, date_from=day, date_to=day,
                         time_from=time(9), time_to=time(12))  # fmt: skip
    others = line(2, at="11:00")
    client = admin_client(manager)

    assert listed(client.get(ENTRIES)) == [hers.pk, *[e.pk for e in others]]  # first come first
    assert listed(client.get(ENTRIES, {"q": "0501112233"})) == [hers.pk]
    assert listed(client.get(ENTRIES, {"q": "+966 50 111 2233"})) == [hers.pk]
    assert listed(client.get(ENTRIES, {"q": "Qahtani"})) == [hers.pk]
    assert listed(client.get(ENTRIES, {"service__id__exact": colour.pk})) == [hers.pk]
    assert listed(client.get(ENTRIES, {"status__exact": "left"})) == []
    page = client.get(ENTRIES).content.decode()
    assert "anyone" in page


def test_entries_and_offers_are_read_only_for_the_manager(manager, offered):
    client = admin_client(manager)

    entry_page = client.get(f"{ENTRIES}{offered.entry_id}/change/")
    offer_page = client.get(f"{OFFERS}{offered.pk}/change/")
    posted = client.post(f"{ENTRIES}{offered.entry_id}/change/", {"status": "left"})

    assert entry_page.status_code == 200
    body = entry_page.content.decode()
    assert 'name="status"' not in body
    assert 'name="_save"' not in body
    assert str(offered.hold_id) in body  # the offer inline names its held booking
    assert offer_page.status_code == 200
    assert offered.token_hash not in offer_page.content.decode()  # the claim link's hashed secret stays out
    assert posted.status_code == 403
    assert WaitlistEntry.objects.get(pk=offered.entry_id).status == WaitlistEntry.Status.OFFERED
    assert client.get(f"{ENTRIES}add/").status_code == 403
    assert client.get(f"{OFFERS}{offered.pk}/delete/").status_code == 403
    assert listed(client.get(OFFERS, {"q": str(offered.entry.customer.phone)})) == [offered.pk]


def test_a_staff_member_has_no_waitlist_pages(staff, offered):
    user = staff.user
    user.is_staff = True
    user.save()
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    client = admin_client(user)

    assert client.get(ENTRIES).status_code == 403
    assert client.get(f"{OFFERS}{offered.pk}/change/").status_code in (302, 403)
