"""Home (search) and the business page. (A first version: the search and the page are built out in their issue.)"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from apps.catalog.models import Business


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from apps.web.views.discover import search_page  # the search lives in views/discover.py

    return search_page(request)


@require_GET
def business_page(request: HttpRequest, slug: str) -> HttpResponse:
    business = get_object_or_404(Business, slug=slug, is_active=True)
    return render(request, "web/business.html", {"business": business})


urlpatterns = [
    path("", home, name="home"),
    path("b/<slug:slug>", business_page, name="business"),
]
