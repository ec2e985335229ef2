"""The website's two middlewares: its language (Arabic unless the visitor chose English) and its Content Security
Policy (no inline script, every asset from Mawid itself; Moyasar's payment form the one outside origin)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

# Paths the website does not own: the API (JSON, and the browsable docs with their own scripts) and the admin
# (Django's pages carry inline scripts). The payment return page is the website's.
NOT_WEBSITE: tuple[str, ...] = ("/api/", "/admin/", "/metrics", "/healthz")


def is_website(path: str) -> bool:
    return not path.startswith(NOT_WEBSITE)


class WebLanguageMiddleware:
    """After `LocaleMiddleware`: on the website a visitor who never chose a language gets Arabic (the API keeps its
    own default, English, and its clients' Accept-Language). The choice is the `mawid_lang` cookie (`views.auth.
    language_set`), or a signed-in customer's own `language`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_website(request.path) and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            user = getattr(request, "user", None)
            language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
            translation.activate(language if language in {"ar", "en"} else "ar")
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if is_website(request.path):
            response.headers.setdefault("Content-Language", translation.get_language() or "ar")
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@cache
def _policy(form_origin: str, api_origin: str) -> str:
    extra_script = f" {form_origin}" if form_origin else ""
    extra_connect = f" {api_origin}" if api_origin else ""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'" + extra_script,
        "style-src": "'self'" + extra_script,
        "img-src": "'self' data: https:",
        "font-src": "'self'" + extra_script,
        "connect-src": "'self'" + extra_connect,
        # The payment form posts to Moyasar and 3-D Secure is a page at the card's bank.
        "form-action": "'self'" + extra_connect + " https:",
        "frame-src": "'self'" + extra_connect + " https:",
        "frame-ancestors": "'none'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def content_security_policy() -> str:
    from apps.web.payment_form import moyasar_form_urls

    script_url, _style_url = moyasar_form_urls()
    return _policy(_origin(script_url), _origin(settings.MOYASAR_BASE_URL))


class ContentSecurityPolicyMiddleware:
    """Every website page carries the policy: scripts only from Mawid (and Moyasar's form on the payment page), no
    inline script or style attribute, no framing. The API and the admin are left as they are. Pages also report
    their server time (`Server-Timing: page;dur=MS`, read by bench/web.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if is_website(request.path) and response.get("Content-Type", "").startswith("text/html"):
            # the server's own time for the page (everything below this middleware), as the API's views report it
            response.headers.setdefault("Server-Timing", f"page;dur={(time.perf_counter() - started) * 1000:.2f}")
            response.headers.setdefault("Content-Security-Policy", content_security_policy())
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        return response
