"""Filters for the home, poster, my-bookings and receipt pages: numbers the way the active language writes them
(Arabic-Indic digits in Arabic), money in riyals, a city's name in the active language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.catalog.search import _CITIES, city_key, normalize

register = template.Library()

_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# The folded keys of catalog.search spelled properly, for display (ة, ى and hamza are folded in the keys).
_ARABIC_CITY = {
    "جده": "جدة", "مكه": "مكة المكرمة", "المدينه": "المدينة المنورة", "الطايف": "الطائف", "بريده": "بريدة",
    "ابها": "أبها", "حايل": "حائل", "الاحساء": "الأحساء", "عنيزه": "عنيزة", "الباحه": "الباحة",
}  # fmt: skip


def arabic() -> bool:
    return (get_language() or "ar").startswith("ar")


def digits(text: object) -> str:
    """`text` with Arabic-Indic digits when the page is in Arabic."""
    return str(text).translate(_ARABIC_DIGITS) if arabic() else str(text)


def city_label(city: str) -> str:
    """A city as typed by the business ("Riyadh", "الرياض"), named in the active language when it is a known
    Saudi city (catalog.search's spellings), else as typed."""
    key = city_key(city)
    known = next((a for a in _CITIES if normalize(a) == key), None)
    if known is None:
        return city
    if arabic():
        return _ARABIC_CITY.get(known, known)
    return city if city.isascii() and city.strip() else _CITIES[known][0].title()


def money_text(amount: int | None, currency: str = "SAR") -> str:
    """Halalas as riyals: "150 SAR" / "١٥٠ ر.س" (".50" only when there are halalas)."""
    if amount is None:
        return ""
    whole, cents = divmod(int(amount), 100)
    number = f"{whole:,}" + (f".{cents:02d}" if cents else "")
    unit = _("SAR") if currency == "SAR" else currency
    return digits(f"{number} {unit}")


register.filter("digits", digits)
register.filter("city", city_label)


@register.filter
def money(amount: int | None, currency: str = "SAR") -> str:
    return money_text(amount, currency)
