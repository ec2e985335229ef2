"""Saudi public holidays as ready-made closures: the coming year's list (Umm al-Qura for the two Eids), the manager
API's suggestions and accepting them (idempotent)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from apps.catalog.holidays import saudi_holidays
from apps.catalog.models import Closure, Membership
from apps.catalog.tests.factories import MembershipFactory
from apps.catalog.tests.fixtures import RIYADH

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=RIYADH)  # 24 Jumada al-Akhirah 1448


def _rows(holidays):
    return [(h.key, h.start_date, h.end_date) for h in holidays]


def test_the_coming_year_of_holidays():
    assert _rows(saudi_holidays(date(2026, 12, 4))) == [
        ("founding_day_2027", date(2027, 2, 22), date(2027, 2, 22)),
        # Ramadan 1448 has 29 days: the day after 29 Ramadan is 1 Shawwal (9 March), four days
        ("eid_al_fitr_1448", date(2027, 3, 9), date(2027, 3, 12)),
        # 9-12 Dhu al-Hijjah 1448: from the Day of Arafah, four days
        ("eid_al_adha_1448", date(2027, 5, 15), date(2027, 5, 18)),
        ("national_day_2027", date(2027, 9, 23), date(2027, 9, 23)),
    ]
    fitr = saudi_holidays(date(2026, 12, 4))[1]
    assert fitr.name == "Eid al-Fitr — عيد الفطر"


def test_a_holiday_under_way_is_still_listed_and_one_a_year_away_is_not_yet():
    # 10 March 2027 is the second day of Eid al-Fitr 1448; Eid al-Fitr 1449 starts 26 February 2028
    keys = [h.key for h in saudi_holidays(date(2027, 3, 10))]
    assert keys == [
        "eid_al_fitr_1448",
        "eid_al_adha_1448",
        "national_day_2027",
        "founding_day_2028",
        "eid_al_fitr_1449",
    ]
    assert "eid_al_fitr_1448" not in [h.key for h in saudi_holidays(date(2027, 3, 13))]
    # a year from 25 February 2027 ends the day before Eid al-Fitr 1449
    assert [h.key for h in saudi_holidays(date(2027, 2, 25))][-1] == "founding_day_2028"


# --- the manager API --------------------------------------------------------------------------------------------


@pytest.fixture
def mc(business, auth_client):
    owner = MembershipFactory.create(business=business, role=Membership.Role.OWNER).user
    with time_machine.travel(NOW, tick=False):
        yield auth_client(owner)


HOLIDAYS = "/api/v1/manage/businesses/salon/holidays"


@pytest.mark.django_db
def test_accepted_holidays_become_closures_once(mc, business):
    listed = mc.get(HOLIDAYS)
    assert listed.status_code == 200
    assert [h["key"] for h in listed.json()] == [
        "founding_day_2027",
        "eid_al_fitr_1448",
        "eid_al_adha_1448",
        "national_day_2027",
    ]
    assert listed.json()[1] == {
        "key": "eid_al_fitr_1448",
        "name": "Eid al-Fitr — عيد الفطر",
        "name_en": "Eid al-Fitr",
        "name_ar": "عيد الفطر",
        "start_date": "2027-03-09",
        "end_date": "2027-03-12",
    }

    keys = {"keys": ["eid_al_fitr_1448", "national_day_2027"]}
    accepted = mc.post(f"{HOLIDAYS}/accept", keys, format="json")
    assert accepted.status_code == 200
    assert [(c["name"], c["branch"], c["start_date"], c["end_date"]) for c in accepted.json()] == [
        ("Eid al-Fitr — عيد الفطر", None, "2027-03-09", "2027-03-12"),
        ("National Day — اليوم الوطني", None, "2027-09-23", "2027-09-23"),
    ]
    assert [h["key"] for h in mc.get(HOLIDAYS).json()] == ["founding_day_2027", "eid_al_adha_1448"]

    again = mc.post(f"{HOLIDAYS}/accept", keys, format="json")
    assert again.status_code == 200
    assert again.json() == []
    assert Closure.objects.filter(business=business).count() == 2


@pytest.mark.django_db
def test_an_edited_or_own_closure_counts_as_accepted(mc, business, branch):
    Closure.objects.create(business=business, name="Eid", start_date=date(2027, 3, 10), end_date=date(2027, 3, 11))
    Closure.objects.create(
        business=business, branch=branch, name="Branch only", start_date=date(2027, 9, 23), end_date=date(2027, 9, 23)
    )
    keys = [h["key"] for h in mc.get(HOLIDAYS).json()]
    assert keys == ["founding_day_2027", "eid_al_adha_1448", "national_day_2027"]  # a branch's closure is not all
    assert mc.post(f"{HOLIDAYS}/accept", {"keys": ["eid_al_fitr_1448"]}, format="json").json() == []


@pytest.mark.django_db
def test_an_unknown_or_past_key_is_a_400_and_creates_nothing(mc, business):
    for body in (
        {"keys": ["eid_al_fitr_1448", "christmas_2026"]},
        {"keys": ["national_day_2026"]},
        {"keys": "eid_al_fitr_1448"},
        {},
    ):
        refused = mc.post(f"{HOLIDAYS}/accept", body, format="json")
        assert refused.status_code == 400, body
        assert refused.json()["error"]["code"] == "validation_error"
    assert not Closure.objects.filter(business=business).exists()


@pytest.mark.django_db
def test_staff_may_not_see_or_accept_holidays(auth_client, staff):
    client = auth_client(staff.user)
    assert client.get(HOLIDAYS).status_code == 403
    assert client.post(f"{HOLIDAYS}/accept", {"keys": []}, format="json").status_code == 403
