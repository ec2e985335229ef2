"""`/calendar/feed`: a staff member's private calendar feed (apps/bookings/calendar_feed.py, docs/web.md): whether
it is on, a new address (shown once: only a hash of its secret is kept; the old address stops working), or off.
The same services as the manager API's `/api/v1/manage/me/calendar-feed`. 404 for someone with no staff profile."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.bookings import calendar_feed
from apps.catalog.selectors import staff_get_for_user
from apps.core.errors import NotFound
from apps.core.scoping import for_businesses


@require_http_methods(["GET", "POST"])
@login_required
def feed_page(request: HttpRequest) -> HttpResponse:
    try:
        staff = staff_get_for_user(request.user)
    except NotFound as missing:
        raise Http404 from missing
    url = ""
    with for_businesses(staff.business_id):
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "new":
                token = calendar_feed.feed_token_issue(staff)
                url = settings.PUBLIC_BASE_URL + reverse("staff-calendar-feed", args=[token])
            elif action == "off":
                calendar_feed.feed_token_revoke(staff)
                messages.success(request, _("Your calendar feed is off: its address no longer works."))
                return redirect("web:calendar_feed")
            else:
                return HttpResponseBadRequest()
        row = calendar_feed.feed_token_get(staff)
    context = {
        "staff": staff,
        "active": row is not None,
        "created_at": row.created_at.astimezone(staff.business.tz) if row is not None else None,
        "url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
    }
    response = render(request, "web/calendar/feed.html", context)
    response["Cache-Control"] = "private, no-store"  # the address is in the page only once
    return response


urlpatterns = [
    path("calendar/feed", feed_page, name="calendar_feed"),
]
