"""Saudi public holidays, as closures a business can accept (the manager API's `holidays`; docs/architecture.md).

Four holidays, the ones the Labor Law's implementing regulations give private-sector workers:

- Eid al-Fitr: four days from the day after 29 Ramadan (Umm al-Qura): 30 Ramadan when the month has a 30th,
  else 1 Shawwal, and the three days after it.
- Eid al-Adha: four days from the Day of Arafah, 9-12 Dhu al-Hijjah.
- Founding Day: 22 February. National Day: 23 September (one day each).

The Hijri dates come from the Umm al-Qura tables (`apps.core.hijri`); the moon sighting may move an Eid by a day,
which the business then edits on the closure it accepted. Each holiday has a stable key ("eid_al_fitr_1448",
"national_day_2027") that the accept endpoint takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from apps.core.hijri import DHU_AL_HIJJAH, RAMADAN, hijri_of, to_gregorian

WINDOW = timedelta(days=365)  # "the next year": holidays that start within a year from today
EID_DAYS = 4


@dataclass(frozen=True, slots=True)
class Holiday:
    key: str
    name_en: str
    name_ar: str
    start_date: date
    end_date: date

    @property
    def name(self) -> str:
        """The closure's name: both languages, as the demo's closures ("National Day — اليوم الوطني")."""
        return f"{self.name_en} — {self.name_ar}"


def _eids(hijri_year: int) -> list[Holiday]:
    fitr = to_gregorian(hijri_year, RAMADAN, 29) + timedelta(days=1)
    adha = to_gregorian(hijri_year, DHU_AL_HIJJAH, 9)
    last = timedelta(days=EID_DAYS - 1)
    return [
        Holiday(f"eid_al_fitr_{hijri_year}", "Eid al-Fitr", "عيد الفطر", fitr, fitr + last),
        Holiday(f"eid_al_adha_{hijri_year}", "Eid al-Adha", "عيد الأضحى", adha, adha + last),
    ]


def _fixed(year: int) -> list[Holiday]:
    return [
        Holiday(f"founding_day_{year}", "Founding Day", "يوم التأسيس", date(year, 2, 22), date(year, 2, 22)),
        Holiday(f"national_day_{year}", "National Day", "اليوم الوطني", date(year, 9, 23), date(year, 9, 23)),
    ]


def saudi_holidays(today: date) -> list[Holiday]:
    """The public holidays not yet over on `today` that start within a year of it, in date order."""
    hijri = hijri_of(today)
    if hijri is None:
        return []
    candidates = [h for y in (hijri.year - 1, hijri.year, hijri.year + 1) for h in _eids(y)]
    candidates += [h for y in (today.year, today.year + 1) for h in _fixed(y)]
    return sorted(
        (h for h in candidates if h.end_date >= today and h.start_date < today + WINDOW),
        key=lambda h: (h.start_date, h.key),
    )
