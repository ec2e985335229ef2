"""The website's addresses. Each page module owns its own `urlpatterns` (views/*.py), joined here."""

from django.urls import path

from apps.web.views import (
    account,
    auth,
    booking,
    calendar,
    calendar_feed,
    discover,
    home,
    mybooking,
    receipt,
    waitlist,
)

app_name = "web"

urlpatterns = [
    path("login", auth.login_phone, name="login"),
    path("login/code", auth.login_code, name="login_code"),
    path("logout", auth.logout_view, name="logout"),
    path("lang", auth.language_set, name="language"),
    path("robots.txt", auth.robots, name="robots"),
    *home.urlpatterns,
    *discover.urlpatterns,
    *receipt.urlpatterns,
    *booking.urlpatterns,
    *account.urlpatterns,
    *mybooking.urlpatterns,
    *waitlist.urlpatterns,
    *calendar_feed.urlpatterns,  # before the calendar's <slug> pages
    *calendar.urlpatterns,
]
