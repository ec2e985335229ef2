"""My bookings. (A first version, built out with the booking flow.)"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET


@require_GET
@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    return render(request, "web/my_bookings.html", {})


urlpatterns = [
    path("my/bookings", my_bookings, name="my_bookings"),
]
