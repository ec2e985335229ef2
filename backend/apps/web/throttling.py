"""The API's throttles on the website: the same classes, rates and counters (core_throttlehit), so a client cannot
get around a limit by switching from the API to the pages."""

from __future__ import annotations

import math

from django.http import HttpRequest

from apps.core.errors import RateLimited
from apps.core.throttling import AnonThrottle, UserThrottle


def check_throttle(request: HttpRequest) -> None:
    """Count this request as the API would (per user when signed in, else per client address); `RateLimited` when
    the rate is spent (the page shows it with the wait)."""
    throttle = UserThrottle() if request.user.is_authenticated else AnonThrottle()
    if not throttle.allow_request(request, None):
        raise RateLimited(retry_after=max(1, math.ceil(throttle.wait() or 1)))
