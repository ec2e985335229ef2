"""The admin's business scope (see `apps.core.scoping`): a platform operator (superuser) sees every business; any
other user with admin access sees the businesses they are a member of (owner, manager or staff), and every list,
form, filter, autocomplete, inline and action of the admin queries through that scope.

It also records on the request which businesses the user runs (`managed_business_ids`: owner or manager) and
which they are a member of (`member_business_ids`); the admins decide rights per business from these
(`apps.accounts.admin.manages`): a manager of A who is staff at B runs A and sees only their own rows at B."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.catalog.selectors import business_ids_run_by
from apps.core.scoping import for_businesses, platform


class AdminScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/admin/"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        members = business_ids_run_by(user, managers_only=False)
        request.member_business_ids = members  # type: ignore[attr-defined]
        request.managed_business_ids = business_ids_run_by(user)  # type: ignore[attr-defined]
        if user is not None and user.is_authenticated and user.is_superuser:
            with platform():
                return self.get_response(request)
        with for_businesses(members):
            return self.get_response(request)
