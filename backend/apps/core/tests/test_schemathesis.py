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

Generation is steered where a plain draw would almost never reach the code worth testing:
- `date` and `date-time` values (the schema's formats for every date filter and every start) come a third of the
  time from the ends of the calendar (9999-12-31, 0001-01-01, in the business's and other offsets) and from the
  booking window, not only uniformly from years 1 to 9999: that is how `date_to=9999-12-31` on GET /bookings and
  a start of 9999-12-31T23:45:00+03:00 on POST /bookings (both 500s once) are found;
- half of the generated POST /bookings bodies name a real staff member and a service they offer (the validation
  behind those lookups, where the start is computed with, is otherwise unreachable), and half of the reschedule
  requests name one of the customer's own bookings (else it is a 404 before the start is even read).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

if not os.environ.get("MAWID_SCHEMATHESIS"):
    pytest.skip("schemathesis run: set MAWID_SCHEMATHESIS=1 (see the module docstring)", allow_module_level=True)

import schemathesis  # noqa: E402 - only once we know the run is wanted
from hypothesis import HealthCheck, Phase  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
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


# --- steering generation ---------------------------------------------------------------------------------------

OFFSETS = ["+03:00", "Z", "-12:00", "+14:00", "+05:30"]  # the business's (Asia/Riyadh), UTC, and the extremes
EDGE_DATES = ["9999-12-31", "9999-12-30", "0001-01-01", "0001-01-02", "9000-12-31", "9001-01-01", "1970-01-01",
              "1969-12-31"]
EDGE_DATE_TIMES = [
    *(f"9999-12-31T{clock}{offset}" for clock in ("23:59:59", "23:45:00", "20:45:00") for offset in OFFSETS),
    *(f"0001-01-01T{clock}{offset}" for clock in ("00:00:00", "02:30:00") for offset in OFFSETS),
    "9000-12-31T23:45:00+03:00",
    "1970-01-01T00:00:00Z",
]


def _window_dates() -> st.SearchStrategy[str]:
    """Local dates around the booking window (today to 60 days ahead, a little either side)."""
    today = datetime.now(ZoneInfo("Asia/Riyadh")).date()
    return st.integers(min_value=-3, max_value=90).map(lambda days: (today + timedelta(days=days)).isoformat())


def _date_values() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(EDGE_DATES), _window_dates(), st.dates().map(date.isoformat))


def _date_time_values() -> st.SearchStrategy[str]:
    # In the booking window on the slot grid, in the business's offset: some of these are bookable.
    quarter_hours = st.integers(min_value=0, max_value=24 * 4 - 1).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}:00")
    window = st.builds("{}T{}+03:00".format, _window_dates(), quarter_hours)
    anywhere = st.builds(
        "{}T{}{}".format,
        st.dates().map(date.isoformat),
        st.times().map(lambda t: t.isoformat(timespec="seconds")),
        st.sampled_from(OFFSETS),
    )
    return st.one_of(st.sampled_from(EDGE_DATE_TIMES), window, anywhere)


schemathesis.openapi.format("date", _date_values())
schemathesis.openapi.format("date-time", _date_time_values())


def _seeded_pairs() -> list[tuple[int, int]]:
    """(staff id, service id) for every active staff member and active service they offer (the demo salon)."""
    from apps.catalog.models import Staff

    return sorted(
        Staff.services.through.objects.filter(staff__is_active=True, service__is_active=True).values_list(
            "staff_id", "service_id"
        )
    )


def _customer_booking_ids() -> list[int]:
    """The seeded customer's bookings (the one `seeded_token` logs in as)."""
    from apps.accounts.models import User
    from apps.bookings.models import Booking

    customer = User.objects.filter(role=User.Role.CUSTOMER).order_by("pk").first()
    return sorted(Booking.objects.filter(customer=customer).values_list("pk", flat=True))


def _with_real_staff_and_service(context, body):
    operation = context.operation
    if not (operation.method.upper() == "POST" and operation.path == "/api/v1/bookings" and isinstance(body, dict)):
        return st.just(body)
    pairs = _seeded_pairs()
    if not pairs:
        return st.just(body)
    real = st.sampled_from(pairs).map(lambda pair: {**body, "staff": pair[0], "service": pair[1]})
    return st.one_of(st.just(body), real)


def _with_the_customer_s_booking(context, path_parameters):
    operation = context.operation
    if not (operation.path.endswith("/reschedule") and isinstance(path_parameters, dict)):
        return st.just(path_parameters)
    ids = _customer_booking_ids()
    if not ids:
        return st.just(path_parameters)
    own = st.sampled_from(ids).map(lambda pk: {**path_parameters, "booking_id": pk})
    return st.one_of(st.just(path_parameters), own)


def _load_schema():
    """The schema /api/schema/ serves, built in-process: collection has no database, and the view is throttled."""
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    loaded.hook("flatmap_body")(_with_real_staff_and_service)
    loaded.hook("flatmap_path_parameters")(_with_the_customer_s_booking)
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
    # identity: the app gzips bodies for clients that accept it (GZipMiddleware); schemathesis's WSGI transport
    # would hand the checks the compressed bytes.
    headers = {"Authorization": f"Bearer {seeded_token}", "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, checks=CHECKS)


def teardown_module() -> None:
    if _cut:
        warnings.warn(
            f"schemathesis time budget ({BUDGET_SECONDS:.0f}s) spent; not exercised: {', '.join(sorted(_cut))}",
            stacklevel=1,
        )
