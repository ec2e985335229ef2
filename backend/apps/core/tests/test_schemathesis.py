"""Hostile input: schemathesis generates requests from our own OpenAPI schema for every operation, authenticated as
a seeded customer, and checks that nothing answers 5xx and every response matches the schema.

Slow, so it runs only when asked (CI does):

    cd backend && MAWID_SCHEMATHESIS=1 python -m pytest apps/core/tests/test_schemathesis.py -q

- `MAWID_SCHEMATHESIS_MAX_EXAMPLES` (default 25): generated cases per operation (plus the schema's examples).
- `MAWID_SCHEMATHESIS_SECONDS` (default 150): wall-clock budget for the whole run; operations reached after it are
  not exercised any more, and the run says which (it still fails on anything found before).
- `MAWID_SCHEMATHESIS_STRICT=1`: also require schema-violating input to be refused (see CHECKS).

The app runs in-process through its WSGI handler (the real middleware stack) against the test database, seeded with
the demo salon. Checks: no server error; status codes, content types, headers and bodies as documented.
"""

from __future__ import annotations

import json
import os
import time
import warnings

import pytest

if not os.environ.get("MAWID_SCHEMATHESIS"):
    pytest.skip("schemathesis run: set MAWID_SCHEMATHESIS=1 (see the module docstring)", allow_module_level=True)

import schemathesis  # noqa: E402 - only once we know the run is wanted
from hypothesis import HealthCheck, Phase  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = int(os.environ.get("MAWID_SCHEMATHESIS_MAX_EXAMPLES", "25"))
BUDGET_SECONDS = float(os.environ.get("MAWID_SCHEMATHESIS_SECONDS", "150"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
if os.environ.get("MAWID_SCHEMATHESIS_STRICT"):
    # Also: input that violates the schema must be refused. DRF is lenient by design (unknown query parameters are
    # ignored, 0/1 pass for booleans, "5" for integers), so this finds coercions rather than bugs; not a CI gate.
    CHECKS.append(negative_data_rejection)

pytestmark = pytest.mark.django_db(transaction=True)
_clock: dict[str, float] = {}
_cut: set[str] = set()


@pytest.fixture
def seeded_token(settings):
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import User

    settings.DEBUG_PROPAGATE_EXCEPTIONS = False  # a crash must come back as the 500 a client would see
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115, PTH123
    customer = User.objects.filter(role=User.Role.CUSTOMER).order_by("pk").first()
    return str(RefreshToken.for_user(customer).access_token)


def _load_schema():
    """The schema /api/schema/ serves, built in-process: collection has no database, and the view is throttled."""
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: CI failures reproduce locally
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_survives_generated_input(case, seeded_token):
    started = _clock.setdefault("start", time.monotonic())
    if time.monotonic() - started > BUDGET_SECONDS:
        _cut.add(f"{case.method.upper()} {case.path}")
        return
    case.call_and_validate(headers={"Authorization": f"Bearer {seeded_token}"}, checks=CHECKS)


def teardown_module() -> None:
    if _cut:
        warnings.warn(
            f"schemathesis time budget ({BUDGET_SECONDS:.0f}s) spent; not exercised: {', '.join(sorted(_cut))}",
            stacklevel=1,
        )
