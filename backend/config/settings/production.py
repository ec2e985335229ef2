"""Production: everything from the environment, secure by default, no fakes, no embedded database.

See docs/deploy.md for the processes (web, worker, release), the server and every variable read here.
"""

import ipaddress
import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str, load_dotenv

# backend/.env, if the deploy has one, fills in what the environment leaves unset (the environment wins), before
# base.py reads a variable. A deploy that keeps its variables elsewhere has no such file (or sets MAWID_DOTENV=off).
load_dotenv()

from .base import *  # noqa: E402, F403

MAWID_ENV = "production"
DEBUG = False

if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL is required in production")
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-insecure"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value in production")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required in production (comma-separated host names)")

# --- Providers: real keys and addresses, never the development fakes' ---
# base.py defaults every provider setting to the loopback fakes (their keys are public in this repository), so a
# deploy that forgets one would start, accept bookings and take no payment. Refuse to start instead, naming the
# variable. MAWID_ALLOW_TEST_KEYS=1 (staging against Moyasar's test mode) lets `sk_test_`/`pk_test_` keys through;
# MAWID_ALLOW_FAKE_PROVIDERS=1 lets the fakes through too: only for the benchmarks (bench/) that run production
# settings against the loopback fakes, never in a deploy.
_FAKE_VALUES = {
    "AUTHENTICA_API_KEY": {"fake-authentica-key"},
    "MOYASAR_SECRET_KEY": {"sk_test_fake"},
    "MOYASAR_PUBLISHABLE_KEY": {"pk_test_fake"},
    "MOYASAR_WEBHOOK_SECRET": {"fake-webhook-secret"},
}
_TEST_KEY_PREFIXES = {"MOYASAR_SECRET_KEY": "sk_test_", "MOYASAR_PUBLISHABLE_KEY": "pk_test_"}
_PROVIDER_URLS = ("AUTHENTICA_BASE_URL", "MOYASAR_BASE_URL")


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host in {"localhost", "0.0.0.0", "::"} or host.endswith(".localhost"):  # noqa: S104 - a refused value
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_development_providers() -> None:
    allow_fakes = env_bool("MAWID_ALLOW_FAKE_PROVIDERS", False)
    allow_test_keys = allow_fakes or env_bool("MAWID_ALLOW_TEST_KEYS", False)
    for name, fakes in _FAKE_VALUES.items():
        value = os.environ.get(name, "").strip()
        if not value and allow_fakes:
            continue  # base.py's default: the fake's value
        if not value:
            raise ImproperlyConfigured(f"{name} is required in production (the real value from the provider)")
        if value in fakes and not allow_fakes:
            raise ImproperlyConfigured(
                f"{name} is the development fake's value, which is public; set the real one in production"
            )
        prefix = _TEST_KEY_PREFIXES.get(name)
        if prefix and value.startswith(prefix) and not allow_test_keys:
            raise ImproperlyConfigured(
                f"{name} is a Moyasar test key ({prefix}...); production needs the live key "
                "(set MAWID_ALLOW_TEST_KEYS=1 only on a staging deploy that should take test payments)"
            )
    for name in _PROVIDER_URLS:
        value = os.environ.get(name, "").strip()
        if not value and allow_fakes:
            continue  # base.py's default: the loopback fake
        if not value:
            raise ImproperlyConfigured(f"{name} is required in production (the provider's https:// address)")
        host = urlsplit(value).hostname
        if not host:
            raise ImproperlyConfigured(f"{name} must be an absolute URL such as https://api.example.com, got {value!r}")
        if _is_loopback(host) and not allow_fakes:
            raise ImproperlyConfigured(
                f"{name} points at this machine ({host}), where only the development fakes listen; "
                "set the provider's real address in production"
            )


_refuse_development_providers()

# --- WhatsApp (only when the channel is on): real credentials and Meta's address, never the fake's ---
_WHATSAPP_FAKES = {
    "WHATSAPP_ACCESS_TOKEN": "fake-whatsapp-token",
    "WHATSAPP_APP_SECRET": "fake-whatsapp-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "fake-whatsapp-verify-token",
}
if "whatsapp" in NOTIFICATIONS_CHANNELS and not env_bool("MAWID_ALLOW_FAKE_PROVIDERS", False):  # noqa: F405
    for _name, _fake in _WHATSAPP_FAKES.items():
        if os.environ.get(_name, "").strip() in ("", _fake):
            raise ImproperlyConfigured(f"{_name} is required in production when WhatsApp is on (not the fake's value)")
    if _is_loopback(urlsplit(WHATSAPP_BASE_URL).hostname or "localhost"):  # noqa: F405
        raise ImproperlyConfigured("WHATSAPP_BASE_URL points at this machine; set https://graph.facebook.com")

# --- ZATCA (Fatoora): unset, production reports to ZATCA's production gateway, never base.py's loopback fake ---
# A deploy onboarding in the simulation sets ZATCA_BASE_URL (and ZATCA_ENVIRONMENT=simulation) itself. An address on
# this machine is refused like the providers' above (MAWID_ALLOW_FAKE_PROVIDERS=1 keeps base.py's fake: benchmarks).
ZATCA_PRODUCTION_URL = "https://gw-fatoora.zatca.gov.sa/e-invoicing/core"


def _zatca_base_url() -> str:
    allow_fakes = env_bool("MAWID_ALLOW_FAKE_PROVIDERS", False)
    value = os.environ.get("ZATCA_BASE_URL", "").strip()
    if not value:
        return ZATCA_BASE_URL if allow_fakes else ZATCA_PRODUCTION_URL  # noqa: F405 - base.py's fake, or ZATCA's
    host = urlsplit(value).hostname
    if not host:
        raise ImproperlyConfigured(
            f"ZATCA_BASE_URL must be an absolute URL such as {ZATCA_PRODUCTION_URL}, got {value!r}"
        )
    if _is_loopback(host) and not allow_fakes:
        raise ImproperlyConfigured(
            f"ZATCA_BASE_URL points at this machine ({host}), where only the development fake listens; "
            f"set ZATCA's address in production ({ZATCA_PRODUCTION_URL}, or the simulation's)"
        )
    return value


ZATCA_BASE_URL = _zatca_base_url()
# The certificate template follows the gateway: ZATCA's production one unless the deploy says otherwise.
ZATCA_ENVIRONMENT = env_str(
    "ZATCA_ENVIRONMENT",
    "production" if ZATCA_BASE_URL == ZATCA_PRODUCTION_URL else ZATCA_ENVIRONMENT,  # noqa: F405
)

# --- Database ---
# Persistent connections by default (one per thread of each process). With MAWID_DB_POOL_MAX_SIZE > 0, each process
# keeps a psycopg pool instead (Django 5.2 `OPTIONS["pool"]`; persistent connections must then be off).
# Behind PgBouncer in transaction mode set MAWID_DB_DISABLE_SERVER_SIDE_CURSORS=1 (see docs/deploy.md).
# These were DATABASE_CONN_MAX_AGE, DATABASE_POOL_* and DATABASE_DISABLE_SERVER_SIDE_CURSORS: still read, with a warning.
_pool_max = env_int("MAWID_DB_POOL_MAX_SIZE", 0, old=("DATABASE_POOL_MAX_SIZE",))
if _pool_max > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {  # noqa: F405
        "min_size": env_int("MAWID_DB_POOL_MIN_SIZE", 1, old=("DATABASE_POOL_MIN_SIZE",)),
        "max_size": _pool_max,
        "timeout": env_float("MAWID_DB_POOL_TIMEOUT", 10.0, old=("DATABASE_POOL_TIMEOUT",)),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int(  # noqa: F405
        "MAWID_DB_CONN_MAX_AGE", 60, old=("DATABASE_CONN_MAX_AGE",)
    )
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(  # noqa: F405
    "MAWID_DB_DISABLE_SERVER_SIDE_CURSORS", False, old=("DATABASE_DISABLE_SERVER_SIDE_CURSORS",)
)

# --- HTTPS (TLS ends at the proxy or load balancer in front, which sets X-Forwarded-Proto) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Static files: collected at release time, served by WhiteNoise with far-future caching ---
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
