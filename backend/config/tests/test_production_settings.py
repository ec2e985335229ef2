"""Production settings refuse to start with the development fakes' keys and addresses.

Each case imports `config.settings.production` in a fresh interpreter with a crafted environment (settings are
read once per process), the way gunicorn, the worker and `manage.py` load them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.tests.environments import PRODUCTION

BACKEND = Path(__file__).resolve().parents[2]

GOOD = PRODUCTION  # a production environment that loads: real-looking keys, no loopback

PRINT_SETTINGS = (
    "import json, config.settings.production as s; "
    "print(json.dumps({k: getattr(s, k) for k in ('AUTHENTICA_BASE_URL', 'AUTHENTICA_API_KEY', 'MOYASAR_BASE_URL', "
    "'MOYASAR_SECRET_KEY', 'MOYASAR_WEBHOOK_SECRET', 'DEBUG', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
    "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SECURE', 'LANGUAGE_COOKIE_SECURE', 'ZATCA_BASE_URL', "
    "'ZATCA_ENVIRONMENT')}))"
)


OURS = ("DJANGO_", "MAWID_", "AUTHENTICA_", "MOYASAR_", "ZATCA_", "WHATSAPP_")  # the developer's own values never leak in


def load_production(**overrides: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env.update(GOOD, MAWID_DOTENV="off")  # a developer's backend/.env must not change the outcome
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", PRINT_SETTINGS], cwd=BACKEND, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )


def refused(result: subprocess.CompletedProcess, variable: str) -> str:
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert variable in last, last
    return last


def test_a_production_environment_with_real_values_loads():
    result = load_production()
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "AUTHENTICA_BASE_URL": GOOD["AUTHENTICA_BASE_URL"],
        "AUTHENTICA_API_KEY": GOOD["AUTHENTICA_API_KEY"],
        "MOYASAR_BASE_URL": GOOD["MOYASAR_BASE_URL"],
        "MOYASAR_SECRET_KEY": GOOD["MOYASAR_SECRET_KEY"],
        "MOYASAR_WEBHOOK_SECRET": GOOD["MOYASAR_WEBHOOK_SECRET"],
        "DEBUG": False,
        # the website's cookies (apps/web): only over HTTPS, out of scripts' reach, not sent on cross-site posts
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_SECURE": True,
        # unset: ZATCA's production gateway, never base.py's loopback fake
        "ZATCA_BASE_URL": "https://gw-fatoora.zatca.gov.sa/e-invoicing/core",
        "ZATCA_ENVIRONMENT": "production",
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MOYASAR_SECRET_KEY", "sk_test_fake"),
        ("MOYASAR_PUBLISHABLE_KEY", "pk_test_fake"),
        ("MOYASAR_WEBHOOK_SECRET", "fake-webhook-secret"),
        ("AUTHENTICA_API_KEY", "fake-authentica-key"),
    ],
)
def test_the_fakes_public_keys_are_refused(variable, value):
    message = refused(load_production(**{variable: value}), variable)
    assert "fake" in message


@pytest.mark.parametrize("variable", ["MOYASAR_SECRET_KEY", "MOYASAR_WEBHOOK_SECRET", "AUTHENTICA_API_KEY",
                                      "AUTHENTICA_BASE_URL", "MOYASAR_BASE_URL"])
@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_provider_setting_is_refused_not_defaulted_to_the_fake(variable, value):
    """Unset, base.py would fall back to the loopback fake: production must name what is missing instead."""
    message = refused(load_production(**{variable: value}), variable)
    assert "required in production" in message


@pytest.mark.parametrize("variable", ["AUTHENTICA_BASE_URL", "MOYASAR_BASE_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8101",
        "http://localhost:8102/v1",
        "http://[::1]:8102/v1",
        "https://127.0.0.2/v1",
        "http://LOCALHOST./v1",
        "http://api.localhost:8102/v1",
        "http://0.0.0.0:8101",
    ],
)
def test_loopback_provider_addresses_are_refused(variable, url):
    message = refused(load_production(**{variable: url}), variable)
    assert "points at this machine" in message


def test_a_provider_url_without_a_host_is_refused():
    refused(load_production(MOYASAR_BASE_URL="api.moyasar.com/v1"), "MOYASAR_BASE_URL")


@pytest.mark.parametrize(("variable", "value"), [("MOYASAR_SECRET_KEY", "sk_test_realMoyasarTestModeKey"),
                                                 ("MOYASAR_PUBLISHABLE_KEY", "pk_test_realMoyasarTestModeKey")])
def test_a_moyasar_test_key_needs_the_staging_opt_in(variable, value):
    message = refused(load_production(**{variable: value}), variable)
    assert "MAWID_ALLOW_TEST_KEYS" in message

    staging = load_production(**{variable: value, "MAWID_ALLOW_TEST_KEYS": "1"})
    assert staging.returncode == 0, staging.stderr


def test_the_staging_opt_in_does_not_let_the_fakes_keys_through():
    result = load_production(MOYASAR_SECRET_KEY="sk_test_fake", MAWID_ALLOW_TEST_KEYS="1")
    refused(result, "MOYASAR_SECRET_KEY")


def test_benchmarks_can_opt_in_to_the_loopback_fakes_explicitly():
    fakes = {
        "AUTHENTICA_BASE_URL": "http://127.0.0.1:8101",
        "AUTHENTICA_API_KEY": "fake-authentica-key",
        "MOYASAR_BASE_URL": "http://127.0.0.1:8102/v1",
        "MOYASAR_SECRET_KEY": "sk_test_fake",
        "MOYASAR_PUBLISHABLE_KEY": "pk_test_fake",
        "MOYASAR_WEBHOOK_SECRET": "fake-webhook-secret",
    }
    refused(load_production(**fakes), "AUTHENTICA_API_KEY")
    result = load_production(**fakes, MAWID_ALLOW_FAKE_PROVIDERS="1")
    assert result.returncode == 0, result.stderr


def test_the_benchmark_opt_in_falls_back_to_the_fakes_when_unset():
    unset = dict.fromkeys(["AUTHENTICA_BASE_URL", "AUTHENTICA_API_KEY", "MOYASAR_BASE_URL", "MOYASAR_SECRET_KEY",
                           "MOYASAR_PUBLISHABLE_KEY", "MOYASAR_WEBHOOK_SECRET"])
    refused(load_production(**unset), "AUTHENTICA_API_KEY")
    result = load_production(**unset, MAWID_ALLOW_FAKE_PROVIDERS="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["MOYASAR_SECRET_KEY"] == "sk_test_fake"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8103/e-invoicing/developer-portal",
        "http://localhost:8103/e-invoicing/core",
        "http://[::1]:8103/e-invoicing/core",
    ],
)
def test_a_loopback_zatca_address_is_refused(url):
    message = refused(load_production(ZATCA_BASE_URL=url), "ZATCA_BASE_URL")
    assert "points at this machine" in message
    assert load_production(ZATCA_BASE_URL=url, MAWID_ALLOW_FAKE_PROVIDERS="1").returncode == 0


def test_a_zatca_address_without_a_host_is_refused():
    refused(load_production(ZATCA_BASE_URL="gw-fatoora.zatca.gov.sa/e-invoicing/core"), "ZATCA_BASE_URL")


def test_the_zatca_simulation_can_be_chosen():
    simulation = "https://gw-fatoora.zatca.gov.sa/e-invoicing/simulation"
    result = load_production(ZATCA_BASE_URL=simulation, ZATCA_ENVIRONMENT="simulation")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert (loaded["ZATCA_BASE_URL"], loaded["ZATCA_ENVIRONMENT"]) == (simulation, "simulation")


def test_the_benchmark_opt_in_keeps_the_zatca_fake_when_unset():
    result = load_production(MAWID_ALLOW_FAKE_PROVIDERS="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["ZATCA_BASE_URL"].startswith("http://127.0.0.1:")


WHATSAPP_REAL = {
    "MAWID_NOTIFY_CHANNELS": "sms,email,whatsapp",
    "WHATSAPP_BASE_URL": "https://graph.facebook.com",
    "WHATSAPP_ACCESS_TOKEN": "EAAG-real-looking",
    "WHATSAPP_APP_SECRET": "0123456789abcdef",
    "WHATSAPP_VERIFY_TOKEN": "our-own-verify-secret",
}


def test_whatsapp_in_production_needs_real_credentials_and_meta_s_address():
    assert load_production(**WHATSAPP_REAL).returncode == 0
    refused(load_production(**{**WHATSAPP_REAL, "WHATSAPP_APP_SECRET": None}), "WHATSAPP_APP_SECRET")
    fake_token = {**WHATSAPP_REAL, "WHATSAPP_ACCESS_TOKEN": "fake-whatsapp-token"}
    refused(load_production(**fake_token), "WHATSAPP_ACCESS_TOKEN")
    refused(load_production(**{**WHATSAPP_REAL, "WHATSAPP_BASE_URL": "http://127.0.0.1:8104"}), "WHATSAPP_BASE_URL")
    assert load_production(WHATSAPP_APP_SECRET=None).returncode == 0  # WhatsApp off: nothing asked
