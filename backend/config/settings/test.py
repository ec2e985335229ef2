from .base import *  # noqa: F403

MAWID_ENV = "test"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAWID_JOB_RETRY_BASE_SECONDS = 0.05
# Build every log record (so a bad `extra` key fails the tests, as it would in production at INFO), print only
# warnings and errors.
LOGGING["root"]["level"] = "DEBUG"  # noqa: F405
LOGGING["handlers"]["console"]["level"] = "WARNING"  # noqa: F405
# Tests never serve static files; without collectstatic, WhiteNoise would only warn about the missing folder.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]  # noqa: F405
