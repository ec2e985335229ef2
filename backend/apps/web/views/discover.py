"""The home page (find a business: by name, city, category or near me, each with its next free time) and each
business's printable poster with the QR code of its booking address.

The search is the API's (`catalog.discovery.business_search`, what `GET /api/v1/businesses` calls): the same
Arabic folding, filters and next-available slot, computed for the whole page in one batch of queries."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from apps.catalog import discovery
from apps.catalog.models import Branch, Business
from apps.catalog.search import city_key
from apps.web.templatetags.web_home import city_label

MAX_Q = 200


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


def _float(value: str | None, low: float, high: float) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _page(value: str | None) -> int:
    try:
        return min(max(int(value or 1), 1), discovery.MAX_PAGE)
    except ValueError:
        return 1


def search_choices() -> tuple[list[Choice], list[Choice]]:
    """(cities, categories) that listed businesses have, in the active language. One query."""
    rows = Branch.objects.filter(is_active=True, business__is_active=True, business__is_listed=True).values_list(
        "city", "business__category", "business__serves_at_home", "business__service_area"
    )
    cities: dict[str, str] = {}
    categories: set[str] = set()
    for city, category, at_home, area in rows:
        categories.add(category)
        for name in [city, *(area if at_home and isinstance(area, list) else [])]:
            if isinstance(name, str) and name.strip() and (key := city_key(name)) not in cities:
                cities[key] = city_label(name)
    cities_sorted = sorted((Choice(k, v) for k, v in cities.items()), key=lambda c: c.label)
    return cities_sorted, [Choice(v, str(label)) for v, label in Business.Category.choices if v in categories]


def when_label(start: datetime, tz: ZoneInfo, now: datetime) -> str:
    """A start as people say it, in the business's local time: "Today 14:30", "Tomorrow 10:00", "Thu 14 Jan
    10:00"."""
    local = start.astimezone(tz)
    today = now.astimezone(tz).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        text = _("Today %(time)s") % {"time": clock}
    elif local.date() == today + timedelta(days=1):
        text = _("Tomorrow %(time)s") % {"time": clock}
    else:
        text = _("%(day)s %(time)s") % {"day": date_format(local, "D j M"), "time": clock}
    return text


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The home page: a search box, and the businesses that match with their next free time."""
    q = request.GET.get("q", "").strip()[:MAX_Q]
    city = request.GET.get("city", "").strip()[:100]
    category = request.GET.get("category", "")
    category = category if category in Business.Category.values else ""
    lat = _float(request.GET.get("lat"), -90, 90)
    lng = _float(request.GET.get("lng"), -180, 180)
    near = (lat, lng) if lat is not None and lng is not None else None
    page = _page(request.GET.get("page"))
    now = timezone.now()
    result = discovery.business_search(
        discovery.Search(q=q, city=city, category=category, near=near, page=page), now=now
    )
    cities, categories = search_choices()
    labels = dict(Business.Category.choices)
    hits = [
        {
            "hit": hit,
            "name": hit.business.name,
            "category": labels.get(hit.business.category, ""),
            "city": city_label(hit.branch.city) if hit.branch and hit.branch.city else "",
            "district": hit.branch.district if hit.branch else "",
            "distance": f"{hit.distance_km:g}" if hit.distance_km is not None else "",
            "next": when_label(hit.next_available.start, hit.business.tz, now) if hit.next_available else "",
            "initial": (hit.business.name or "?")[:1],
        }
        for hit in result.hits
    ]
    kept = {k: v for k, v in {"q": q, "city": city, "category": category}.items() if v}
    if near:
        kept |= {"lat": f"{near[0]:.5f}", "lng": f"{near[1]:.5f}"}

    def page_url(number: int) -> str:
        query = {**kept, **({"page": str(number)} if number > 1 else {})}
        return "?" + urlencode(query) if query else "/"

    rest = {k: v for k, v in kept.items() if k not in {"lat", "lng"}}
    context: dict[str, Any] = {
        "q": q,
        "city": city_key(city) if city else "",
        "category": category,
        "near": near,
        "lat": kept.get("lat", ""),
        "lng": kept.get("lng", ""),
        "cities": cities,
        "categories": categories,
        "hits": hits,
        "count": result.count,
        "searched": bool(kept),
        "without_near": "?" + urlencode(rest) if rest else "/",
        "previous_url": page_url(page - 1) if page > 1 else "",
        "next_url": page_url(page + 1) if result.has_next and page < discovery.MAX_PAGE else "",
    }
    return render(request, "web/home.html", context)


# --- the poster -----------------------------------------------------------------------------------------------


def booking_address(business: Business) -> str:
    """The absolute address the QR code carries: the business's booking page."""
    return f"{settings.PUBLIC_BASE_URL}/b/{business.slug}"


def qr_code(business: Business) -> segno.QRCode:
    return segno.make(booking_address(business), error="m")


def qr_svg_inline(business: Business) -> str:
    """The QR code as an <svg> element for the page (its size from CSS; dark modules on white)."""
    return qr_code(business).svg_inline(
        scale=1, omitsize=True, title=_("QR code: %(address)s") % {"address": booking_address(business)},
        svgclass="qr-code", lineclass="qr-line", dark="#000", light="#fff",
    )  # fmt: skip


def _listed_or_active(slug: str) -> Business:
    return get_object_or_404(Business, slug=slug, is_active=True)


@require_GET
def poster(request: HttpRequest, slug: str) -> HttpResponse:
    """A printable A4 poster for the shop window: the name in Arabic and English, "scan to book", the QR code."""
    business = _listed_or_active(slug)
    return render(
        request,
        "web/poster.html",
        {
            "business": business,
            "address": booking_address(business),
            "qr": mark_safe(qr_svg_inline(business)),  # noqa: S308 - segno's own markup of our own address
        },
    )


@require_GET
@cache_control(public=True, max_age=86400)
def qr_svg(request: HttpRequest, slug: str) -> HttpResponse:
    """The QR code alone, as an SVG file (for print shops and social posts)."""
    business = _listed_or_active(slug)
    out = io.BytesIO()
    qr_code(business).save(out, kind="svg", scale=10, dark="#000", light="#fff", xmldecl=True)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


urlpatterns = [
    path("b/<slug:slug>/poster", poster, name="business_poster"),
    path("b/<slug:slug>/qr.svg", qr_svg, name="business_qr"),
]
