"""Where Moyasar's payment form comes from: its CDN in production, the Moyasar fake's equivalent in development
and tests (`/_fake/mpf/moyasar.js`, served by `apps.payments.providers.fake`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

MOYASAR_CDN = "https://cdn.moyasar.com/mpf/{version}/moyasar.{ext}"


def moyasar_form_urls() -> tuple[str, str]:
    """(script URL, stylesheet URL) of the payment form."""
    script, style = settings.MOYASAR_FORM_SCRIPT_URL, settings.MOYASAR_FORM_STYLE_URL
    if script and style:
        return script, style
    base = settings.MOYASAR_BASE_URL.rstrip("/")
    host = urlsplit(base).hostname or ""
    if host in {"127.0.0.1", "localhost", "::1"}:  # the fake (production refuses a loopback provider URL)
        root = base.removesuffix("/v1")
        return script or f"{root}/_fake/mpf/moyasar.js", style or f"{root}/_fake/mpf/moyasar.css"
    version = settings.MOYASAR_FORM_VERSION
    return (
        script or MOYASAR_CDN.format(version=version, ext="js"),
        style or MOYASAR_CDN.format(version=version, ext="css"),
    )
