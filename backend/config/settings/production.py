"""Production: everything from the environment, secure by default, no fakes, no embedded database.

See docs/deploy.md for the processes (web, worker, release), the server and every variable read here.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str

from .base import *  # noqa: F403

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

# --- Database ---
# Persistent connections by default (one per thread of each process). With DATABASE_POOL_MAX_SIZE > 0, each process
# keeps a psycopg pool instead (Django 5.2 `OPTIONS["pool"]`; persistent connections must then be off).
# Behind PgBouncer in transaction mode set DATABASE_DISABLE_SERVER_SIDE_CURSORS=1 (see docs/deploy.md).
_pool_max = env_int("DATABASE_POOL_MAX_SIZE", 0)
if _pool_max > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {  # noqa: F405
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
        "max_size": _pool_max,
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)  # noqa: F405
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False)  # noqa: F405

# --- HTTPS (TLS ends at the proxy or load balancer in front, which sets X-Forwarded-Proto) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Static files: collected at release time, served by WhiteNoise with far-future caching ---
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
