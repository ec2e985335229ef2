"""The booking flow: service, staff member or anyone, date and time, sign in, review, pay, confirmation."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
