"""What every website template sees: the language and its direction, the other language to switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation

from apps.web.middleware import is_website


def _works_at_a_business(request: HttpRequest) -> bool:
    from apps.catalog.selectors import business_ids_run_by

    user = request.user
    return bool(getattr(user, "is_superuser", False) or business_ids_run_by(user, managers_only=False))


def site(request: HttpRequest) -> dict[str, Any]:
    if not is_website(request.path):
        return {}
    language = translation.get_language() or "ar"
    arabic = language.startswith("ar")
    user = getattr(request, "user", None)
    return {
        # the calendar link, for owners, managers and staff (asked only for a signed-in person's page)
        "works_at_a_business": bool(user is not None and user.is_authenticated and _works_at_a_business(request)),
        "lang": "ar" if arabic else "en",
        "dir": "rtl" if arabic else "ltr",
        "other_lang": "en" if arabic else "ar",
        "other_lang_name": "English" if arabic else "العربية",
    }
