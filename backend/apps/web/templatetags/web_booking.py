"""Filters for the business page and the booking flow: money in riyals and durations, always in Western digits
(0-9), in the active language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def sar(amount: int | None, currency: str = "SAR") -> str:
    """Halalas as riyals with Western digits: "150 SAR" / "150 ر.س", "1,250.50 SAR" (halalas only when any)."""
    if amount is None:
        return ""
    whole, halalas = divmod(int(amount), 100)
    number = f"{whole:,}" + (f".{halalas:02d}" if halalas else "")
    unit = _("SAR") if currency == "SAR" else currency
    return f"{number} {unit}"


def minutes(total: int) -> str:
    """A duration: "45 min", "1 h 30 min", "2 h"."""
    hours, rest = divmod(int(total), 60)
    if not hours:
        return _("%(m)d min") % {"m": rest}
    if not rest:
        return _("%(h)d h") % {"h": hours}
    return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}


def initial(name: str) -> str:
    """The first letter of a name, for a round placeholder when there is no photo or logo."""
    return (name or "?").strip()[:1].upper() or "?"


register.filter("sar", sar)
register.filter("minutes", minutes)
register.filter("initial", initial)
