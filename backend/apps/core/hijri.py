"""The Hijri (Umm al-Qura) calendar, Saudi Arabia's official one, through `hijridate`: the one place Mawid turns a
Gregorian date into a Hijri one and writes it out.

    hijri_of(date(2026, 12, 4))            -> HijriDate(year=1448, month=6, day=24)
    .full("ar") / .full("en")              -> "24 جمادى الآخرة 1448 هـ" / "24 Jumada al-Akhirah 1448 AH"
    .short("ar") / .short("en")            -> "24 جمادى الآخرة" / "24 Jumada al-Akhirah" (SMS: no year)
    ramadan_range(1448)                    -> (date(2027, 2, 8), date(2027, 3, 8))

The Umm al-Qura tables cover 1343-1500 AH (1924-2077 CE); outside them `hijri_of` returns None and callers show
the Gregorian date alone. Month names and the era notation are hijridate's ("Jumada al-Akhirah", "هـ" / "AH").
Digits stay Western in both languages, as in the rest of Mawid's Arabic text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from hijridate import Gregorian, Hijri

RAMADAN = 9
SHAWWAL = 10
DHU_AL_HIJJAH = 12


@dataclass(frozen=True, slots=True)
class HijriDate:
    year: int
    month: int
    day: int

    def month_name(self, language: str) -> str:
        return str(Hijri(self.year, self.month, self.day).month_name("ar" if language == "ar" else "en"))

    def short(self, language: str) -> str:
        """Day and month, no year: "24 جمادى الآخرة" / "24 Jumada al-Akhirah"."""
        return f"{self.day} {self.month_name(language)}"

    def full(self, language: str) -> str:
        """Day, month, year and era: "24 جمادى الآخرة 1448 هـ" / "24 Jumada al-Akhirah 1448 AH"."""
        era = "هـ" if language == "ar" else "AH"
        return f"{self.short(language)} {self.year} {era}"

    @property
    def ar(self) -> str:
        return self.full("ar")

    @property
    def en(self) -> str:
        return self.full("en")

    def to_gregorian(self) -> date:
        g = Hijri(self.year, self.month, self.day).to_gregorian()
        return date(g.year, g.month, g.day)


def hijri_of(day: date | datetime, tz: tzinfo | None = None) -> HijriDate | None:
    """The Umm al-Qura date of a Gregorian day; a datetime is first taken to its day in `tz` (when given). None
    outside the calendar's range."""
    if isinstance(day, datetime):
        day = (day.astimezone(tz) if tz is not None else day).date()
    try:
        h = Gregorian(day.year, day.month, day.day).to_hijri()
    except (ValueError, OverflowError):
        return None
    return HijriDate(h.year, h.month, h.day)


def to_gregorian(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Hijri one (ValueError for a day the month does not have or out of range)."""
    return HijriDate(year, month, day).to_gregorian()


def month_length(year: int, month: int) -> int:
    """How many days (29 or 30) a Hijri month has in the Umm al-Qura calendar."""
    return int(Hijri(year, month, 1).month_length())


def month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last Gregorian day of a Hijri month."""
    return to_gregorian(year, month, 1), to_gregorian(year, month, month_length(year, month))


def ramadan_range(hijri_year: int) -> tuple[date, date]:
    """The first and last Gregorian day of Ramadan in a Hijri year (Umm al-Qura)."""
    return month_range(hijri_year, RAMADAN)
