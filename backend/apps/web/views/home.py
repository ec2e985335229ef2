"""Home (search) and the business page `/b/SLUG`: the business, its branches (address, map link), its services
(price, duration, "Book") and its staff (photo or initial, bio), in 5 plain queries
(`catalog.selectors.business_page_profile`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from apps.catalog.errors import BusinessMissing
from apps.catalog.selectors import business_page_profile
from apps.web.views.booking import error_page


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from apps.web.views.discover import search_page  # the search lives in views/discover.py

    return search_page(request)


@require_GET
def business_page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        profile = business_page_profile(slug)  # listed or not: an unlisted business's page is reached by its link
    except BusinessMissing as exc:
        return error_page(request, exc)
    branches = {b.pk: b for b in profile.branches}
    several = len(branches) > 1
    services = [
        {
            "service": s,
            "branches": [branches[i] for i in getattr(s, "branch_ids", []) if i in branches] if several else [],
            "book_url": f"{reverse('web:book', args=[slug])}?service={s.pk}",
        }
        for s in profile.services
        if getattr(s, "staff_ids", None)  # nobody gives it: nothing to book
    ]
    staff = [{"staff": s, "branch": branches.get(s.branch_id) if several else None} for s in profile.staff]
    context = {"business": profile.business, "branches": profile.branches, "services": services, "staff": staff}
    return render(request, "web/business.html", context)


urlpatterns = [
    path("", home, name="home"),
    path("b/<slug:slug>", business_page, name="business"),
]
