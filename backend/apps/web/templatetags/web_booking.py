"""Filters for the business page and the booking flow: money in riyals and durations, always in Western digits
(0-9), in the active language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from apps.web.templatetags.web_home import money_text, vat_text

register = template.Library()


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


register.filter("sar", money_text)  # the one money format of the site (web_home)
register.simple_tag(vat_text, name="vat_line")
register.filter("minutes", minutes)
register.filter("initial", initial)
