"""Filters for the website's pages: money in riyals, a city's name in the active language. Numbers are written
with Western digits in both languages (as prices, phone numbers and times are across Saudi apps), one way site-wide."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.catalog.search import known_city

register = template.Library()

# The folded keys of catalog.search spelled properly, for display (ة, ى and hamza are folded in the keys).
_ARABIC_CITY = {
    "جده": "جدة", "مكه": "مكة المكرمة", "المدينه": "المدينة المنورة", "الطايف": "الطائف", "بريده": "بريدة",
    "ابها": "أبها", "حايل": "حائل", "الاحساء": "الأحساء", "عنيزه": "عنيزة", "الباحه": "الباحة",
}  # fmt: skip


def arabic() -> bool:
    return (get_language() or "ar").startswith("ar")


def city_label(city: str) -> str:
    """A city as typed by the business ("Riyadh", "الرياض"), named in the active language when it is a known
    Saudi city (catalog.search's spellings), else as typed."""
    known = known_city(city)
    if known is None:
        return city
    if arabic():
        return _ARABIC_CITY.get(known[0], known[0])
    return city if city.isascii() and city.strip() else known[1].title()


def money_text(amount: int | None, currency: str = "SAR") -> str:
    """Halalas as riyals: "150 SAR" / "150 ر.س" (".50" only when there are halalas)."""
    if amount is None:
        return ""
    whole, cents = divmod(int(amount), 100)
    number = f"{whole:,}" + (f".{cents:02d}" if cents else "")
    unit = _("SAR") if currency == "SAR" else currency
    return f"{number} {unit}"


register.filter("city", city_label)


def rate_text(bps: int) -> str:
    """Basis points as a percentage: 1500 → "15%", 1250 → "12.5%"."""
    whole, rest = divmod(int(bps), 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


def vat_text(vat: int, rate_bps: int, currency: str = "SAR") -> str:
    """The VAT line of a VAT-inclusive amount: "Includes VAT 15%: 19.56 SAR" (empty at rate 0: no VAT)."""
    if not rate_bps:
        return ""
    return _("Includes VAT %(rate)s: %(amount)s") % {"rate": rate_text(rate_bps), "amount": money_text(vat, currency)}


register.filter("rate", rate_text)
register.simple_tag(vat_text, name="vat_line")


@register.filter
def money(amount: int | None, currency: str = "SAR") -> str:
    return money_text(amount, currency)
