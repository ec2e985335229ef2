"""What catalog holds about a person (docs/privacy.md): their roles at businesses and, for staff, their profile,
time off and requests. A person who holds a role (a membership, or an active staff profile) cannot delete their
account (`holds_business_role`): the business removes them first. A former staff member's profile stays for the
bookings it served, under a placeholder name. Businesses' and branches' own details are not a person's data.
Imported from `CatalogConfig.ready()`."""

from __future__ import annotations

from typing import Any

from apps.catalog.errors import HoldsBusinessRole
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Season,
    SeasonalHours,
    Service,
    Staff,
    TimeOffRequest,
    WorkingHours,
)
from apps.core.errors import DomainError
from apps.core.personal_data import deletion_refusals, erase, keep, no_personal_data, pseudonymise, register

HELD = "refused while the person holds a role: the business removes them first"
FORMER_STAFF = "موظف سابق / Former staff member"


def role_refusal(user: Any) -> DomainError | None:
    """A role at any business (a membership, or an active staff profile) refuses the deletion: 409 naming them."""
    slugs = sorted(
        set(Membership.objects.filter(user_id=user.pk).values_list("business__slug", flat=True))
        | set(Staff.objects.filter(user_id=user.pk, is_active=True).values_list("business__slug", flat=True))
    )
    if not slugs:
        return None
    return HoldsBusinessRole(extra={"businesses": slugs})


def declare() -> None:
    public = "the business's public profile and settings, not a person's"
    no_personal_data(
        Business,
        reason=public,
        not_personal={
            "slug name_en name_ar description_en description_ar contact_phone logo_url vat_number sender_name "
            "service_area search_text catalog_text city_keys": public
        },
    )
    no_personal_data(
        Branch,
        reason="a branch's public address",
        not_personal={"name_en name_ar city district address contact_phone": "a branch's public address"},
    )
    no_personal_data(
        Service,
        reason="the catalog",
        not_personal={"name_en name_ar description_en description_ar search_text": "the catalog"},
    )
    no_personal_data(WorkingHours, reason="staff hours")
    no_personal_data(Closure, reason="a business's closed days", not_personal={"name": "a holiday's name"})
    no_personal_data(Season, reason="a business's seasonal hours", not_personal={"name_en name_ar": "a season's name"})
    no_personal_data(SeasonalHours, reason="staff hours in a season")
    register(
        Membership,
        section="business_roles",
        rows=lambda user: Membership.objects.filter(user_id=user.pk).select_related("business"),
        export=lambda m: {"business": m.business.slug, "role": m.role, "since": m.created_at},
        fields={"user": keep(HELD)},
    )
    register(
        Staff,
        section="staff_profiles",
        rows=lambda user: Staff.objects.filter(user_id=user.pk).select_related("business"),
        export=lambda s: {"business": s.business.slug, "display_name": s.display_name, "bio": s.bio},
        fields={
            "user": keep("the profile stays, inactive, for the bookings it served"),
            "display_name": pseudonymise(FORMER_STAFF),
            "bio photo_url": erase(""),
        },
    )
    register(
        ScheduleException,
        rows=lambda user: ScheduleException.objects.filter(staff__user_id=user.pk),
        fields={"reason": erase("")},
    )
    register(
        TimeOffRequest,
        section="time_off_requests",
        rows=lambda user: TimeOffRequest.objects.filter(staff__user_id=user.pk),
        export=lambda r: {"start": r.start, "end": r.end, "reason": r.reason, "status": r.status},
        fields={"reason decision_note": erase(""), "decided_by": keep("who decided: a manager of the business")},
    )
    deletion_refusals.register(role_refusal)
