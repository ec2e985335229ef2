"""The business calendar: a branch's day, a staff member's week, and the actions on a booking."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
