"""The business calendar: a branch's day, a staff member's week, and the actions on a booking."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET


@require_GET
@login_required
def calendar_home(request: HttpRequest) -> HttpResponse:
    """The businesses this person works at (a first version: the calendar itself is built in its own change)."""
    return render(request, "web/calendar/home.html", {})


urlpatterns = [
    path("calendar/", calendar_home, name="calendar"),
]
