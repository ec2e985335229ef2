"""What every website template sees: the language and its direction, the other language to switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation

from apps.web.middleware import is_website


def site(request: HttpRequest) -> dict[str, Any]:
    if not is_website(request.path):
        return {}
    language = translation.get_language() or "ar"
    arabic = language.startswith("ar")
    return {
        "lang": "ar" if arabic else "en",
        "dir": "rtl" if arabic else "ltr",
        "other_lang": "en" if arabic else "ar",
        "other_lang_name": "English" if arabic else "العربية",
    }
