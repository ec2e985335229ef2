"""Which business's rows a piece of code may read: django-scopes, set once at each entry point.

Every business-owned model's default manager is `BusinessScopedManager` (django-scopes' `ScopedManager` on the
`business` dimension). A query through it runs only inside a scope, and is filtered to that scope's businesses:

- `for_businesses(ids)`: a manager's or staff member's surfaces (the manager API, the admin of a non-superuser)
  see their businesses' rows and nothing else; a query that forgets its scope raises `ScopeError` (a 500 in
  production, a failed test before that), instead of returning another business's rows.
- `platform()`: code that is not acting *for* a business: the customer API (a customer's own rows span
  businesses; it filters by customer), payment webhooks and returns (Moyasar names a payment, the payment names
  its business), jobs (they act on one row by id), management commands and a superuser's admin.
- `enforced()`: a clean slate with no business: every scoped query fails until the code enters a scope.

`ScopeMiddleware` puts each request in its surface's state (`surface_for(path)`), so a request that reaches
business code with no business set fails loudly, and the job worker (`apps.core.jobcontext`) runs every job under
`platform()`. Tests run their own bodies under `platform()` (backend/conftest.py); a request they make through
the test client still gets its surface's state from the middleware.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django import forms
from django.db import models
from django.http import HttpRequest, HttpResponse
from django_scopes import ScopeError, get_scope, scope, scopes_disabled
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import state

_M = TypeVar("_M", bound=models.Model)

__all__ = [
    "BusinessScopedManager",
    "ScopeError",
    "ScopeMiddleware",
    "current_businesses",
    "enforced",
    "for_businesses",
    "platform",
]

DIMENSION = "business"

# Paths whose code acts for one or more businesses: their views set the scope from the user's memberships.
BUSINESS_SURFACES: tuple[str, ...] = ("/api/v1/manage/", "/admin/", "/calendar/")


class BusinessScopedManager(models.Manager[_M]):
    """django-scopes' `ScopedManager` on the `business` dimension, as a named class (so that the type checker and
    the admin see a real manager): outside a scope every query raises `ScopeError`; inside one it is filtered to
    the scope's businesses through `path`; under `platform()` it filters nothing."""

    def __init__(self, path: str = "business") -> None:
        super().__init__()
        self.scope_path = path

    def get_queryset(self) -> models.QuerySet[_M]:
        current = get_scope()
        if not current.get("_enabled", True):
            return super().get_queryset()
        if DIMENSION not in current:
            return DisabledQuerySet(self.model, using=self._db, missing_scopes={DIMENSION})
        value = current[DIMENSION]
        queryset = super().get_queryset()
        if isinstance(value, (list, tuple)):
            return queryset.filter(**{f"{self.scope_path}__in": value})
        return queryset if value is None else queryset.filter(**{self.scope_path: value})

    def all(self) -> models.QuerySet[_M]:
        queryset = super().all()
        if isinstance(queryset, DisabledQuerySet):
            queryset.all()  # raises ScopeError
        return queryset


@contextmanager
def platform() -> Iterator[None]:
    """Run as platform code: scoped managers filter nothing (the caller filters by customer, id or job)."""
    with scopes_disabled():
        yield


@contextmanager
def for_businesses(business_ids: Iterable[int] | int) -> Iterator[None]:
    """Only these businesses' rows (an empty list: none at all)."""
    ids = [business_ids] if isinstance(business_ids, int) else list(business_ids)
    with scope(**{DIMENSION: ids}):
        yield


@contextmanager
def enforced() -> Iterator[None]:
    """A clean slate: scoping on, no business, whatever the caller had; every scoped query fails until a scope
    is entered."""
    token = state.set({"_enabled": True})
    try:
        yield
    finally:
        state.reset(token)


def current_businesses() -> list[int] | None:
    """The business ids in scope now; None when scoping is off (platform code) or no business is set."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    value = current.get(DIMENSION)
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def surface_for(path: str) -> str:
    return "business" if path.startswith(BUSINESS_SURFACES) else "platform"


class ScopeMiddleware:
    """Each request starts in its surface's state: business surfaces enforced (their views and the admin choose
    the businesses), everything else platform code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = enforced() if surface_for(request.path_info) == "business" else platform()
        with context:
            return self.get_response(request)


class ScopedModelChoiceField(forms.ModelChoiceField):
    """A choice of a business-owned row in a form class declared at import time, outside any scope: no choices
    then; the admin (or the view) gives the real queryset per request, inside the user's scope."""

    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        try:
            queryset = queryset.all()
        except ScopeError:
            queryset = queryset.none()
        super().__init__(queryset, **kwargs)
