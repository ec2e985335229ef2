"""Tests (pytest, through pyproject.toml; mypy's Django plugin).

Tests read no setting from backend/.env: the suite checks the defaults and the values each test sets, whatever a
developer keeps in that file (real provider keys, other limits, another log level). So this module does not call
`load_dotenv()`, the environment of the test run stays as it was, and processes the tests start see no .env value.
DATABASE_URL comes from the environment (`python3 dev.py test` passes the one in backend/.env on).

One exception: the external Authentica test (apps/accounts/tests/test_authentica_external.py, skipped by default)
takes its own variables from the environment or else from backend/.env, where the README suggests keeping them.
They are read into AUTHENTICA_E2E_ENV below and nowhere else: AUTHENTICA_API_KEY there never becomes the
AUTHENTICA_API_KEY setting the other tests use.
"""

import os

from config.env import dotenv_path, read_dotenv

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

AUTHENTICA_E2E_VARIABLES = (
    "AUTHENTICA_E2E", "AUTHENTICA_E2E_PHONE", "AUTHENTICA_E2E_CODE", "AUTHENTICA_E2E_BASE_URL",
    "AUTHENTICA_E2E_CHANNEL", "AUTHENTICA_API_KEY", "AUTHENTICA_TEMPLATE_ID",
)
try:
    _dotenv = read_dotenv(dotenv_path())
except (OSError, ValueError):  # a broken or missing file is for the settings that load it to report, not the tests
    _dotenv = {}
AUTHENTICA_E2E_ENV = {
    name: os.environ[name] if name in os.environ else _dotenv[name]
    for name in AUTHENTICA_E2E_VARIABLES
    if name in os.environ or name in _dotenv
}
