"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["apps.core.testclock"]


@pytest.fixture(autouse=True)
def _platform_scope():
    """Test bodies are platform code (they read any business's rows to check them); a request made through the
    test client still gets its surface's business scope from the middleware (apps/core/scoping.py)."""
    from apps.core.scoping import platform

    with platform():
        yield


@pytest.fixture(autouse=True)
def _empty_job_queue(request, django_db_blocker):
    """Transactional tests run the real worker: each starts with an empty queue and leaves one behind (Django's
    flush empties only its own tables, so the job rows such a test committed would meet the next test, which
    pytest may order anywhere, as .ci/week's days showed)."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0]))):
        yield
        return
    from django.db import connection

    def empty() -> None:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers RESTART IDENTITY CASCADE")

    empty()
    yield
    empty()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    from apps.accounts.models import User

    def make(*, role: str = "customer", phone: str | None = None, **extra):
        n = next(counter)
        phone = phone or f"+9665{n:08d}"
        user = User.objects.create_user(phone=phone, role=role, name=extra.pop("name", f"User {n}"), **extra)
        if role == "manager":  # a manager of the salon (the first business), as before there were several
            from apps.catalog.models import Membership
            from apps.catalog.tests.factories import default_business

            Membership.objects.create(business=default_business(), user=user, role=Membership.Role.MANAGER)
        return user

    return make


@pytest.fixture
def customer(make_user):
    return make_user(role="customer", name="Customer")


@pytest.fixture
def manager(make_user, business):
    """A manager of the salon (`business`): admin access, and a manager membership of it."""
    return make_user(role="manager", name="Manager", is_staff=True)


def client_for(user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def auth_client():
    """`auth_client(user)` → an APIClient sending that user's access token."""
    return client_for



@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and at the end of the run a check that nothing but the main connection is
    still open on it: a leaked connection (a worker's thread, a pool, a server thread) would make dropping the
    database wait 5 s and then fail with "being accessed by other users". Leftovers are named, closed, and fail the run.
    """
    yield
    from apps.core.testing import other_database_sessions

    with django_db_blocker.unblock():
        leaked = other_database_sessions(wait=2.0, terminate=True)
    if leaked:
        pytest.fail(f"connections to the test database left open at the end of the run: {leaked}", pytrace=False)


# The salon (business, service, staff, `day`, `at`) for every app's tests: one home, apps/catalog/tests/fixtures.py.
pytest_plugins += ["apps.catalog.tests.fixtures"]
