"""The two admin roles as auth groups, set up by `roles_setup()` (the `python manage.py setup_roles` command;
idempotent; run it after `migrate`).

Roles are memberships of a business (`catalog.Membership`: owner, manager, staff), not global: a person with an
owner or manager membership of any business is in "Managers", one with staff memberships only in "Staff", anyone
else in neither. The groups give model permissions; which rows they apply to is decided per business by the
admins (`apps.accounts.admin.manages`): a manager of A who is staff at B manages A's rows and sees only their own
bookings at B. `User.role` is no longer read here (the API and older code may still read it).

* "Managers": run the business in the admin: bookings (view; status changes through the actions), the catalog
  (everything), its people (view: members and customers; memberships are added in the membership admin),
  notifications (view, send again), payments (view; the payments admin's manager actions), invoices (view) and
  the business's tax profile (view, add, change), its people's admin
  sign-in lockouts (view, delete to unlock), and its waitlist (view: entries and offers).
* "Staff": a staff member's own day: their bookings (view; complete, no-show, reschedule and cancel through the
  actions, which the bookings services allow the booking's staff member), their schedule and time off (view),
  services and closures (view). Which bookings and schedules they see is decided by the admin (their own only).

Each group gets exactly these permissions (a permission added by hand is removed on the next run). Then every
user with admin access (`is_staff`) is put in the group their memberships call for, and taken out of the other
one; the user admin and the membership admin do the same whenever a user or a membership is saved there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from apps.accounts.models import User
from apps.core.scoping import platform

MANAGERS = "Managers"
STAFF = "Staff"
GROUP_NAMES = (MANAGERS, STAFF)
_RUNS = ("owner", "manager")  # the membership roles that run a business (catalog.Membership.Role)

_ALL = ("view", "add", "change", "delete")

# group -> {"app_label.model": actions}. Models of an app that is not installed (or not migrated yet) are skipped.
GROUP_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    MANAGERS: {
        "accounts.user": ("view",),
        "accounts.otpchallenge": ("view",),
        "catalog.business": ("view", "change"),
        "catalog.branch": _ALL,
        "catalog.membership": _ALL,
        "catalog.service": _ALL,
        "catalog.staff": _ALL,
        "catalog.workinghours": _ALL,
        "catalog.scheduleexception": _ALL,
        "catalog.closure": _ALL,
        "bookings.booking": ("view", "change"),
        "bookings.bookingstatuschange": ("view",),
        "notifications.notification": ("view", "change"),
        "notifications.notificationattempt": ("view",),
        "payments.payment": ("view", "change"),
        "payments.refund": ("view",),
        "payments.ledgerentry": ("view",),
        "payments.paymentevent": ("view",),
        "payments.webhookevent": ("view",),
        # Invoices are read-only for everyone; the seller's tax data (legal name, national address) is theirs.
        "invoicing.invoice": ("view",),
        "invoicing.invoiceseries": ("view",),
        "invoicing.zatcacredential": ("view",),
        "invoicing.taxprofile": ("view", "add", "change"),
        # Admin sign-in lockouts (django-axes): see them, and lift one by deleting the attempt.
        "axes.accessattempt": ("view", "delete"),
        "axes.accesslog": ("view",),
        # The business's waitlist, read-only (rows change through the waitlist's services only).
        "waitlist.waitlistentry": ("view",),
        "waitlist.waitlistoffer": ("view",),
    },
    STAFF: {
        "bookings.booking": ("view", "change"),
        "bookings.bookingstatuschange": ("view",),
        "catalog.staff": ("view",),
        "catalog.workinghours": ("view",),
        "catalog.scheduleexception": ("view",),
        "catalog.service": ("view",),
        "catalog.closure": ("view",),
    },
}


def _permissions(spec: dict[str, tuple[str, ...]]) -> tuple[list[Permission], list[str]]:
    wanted = {
        (label.split(".")[0], f"{action}_{label.split('.')[1]}")
        for label, actions in spec.items()
        for action in actions
    }
    found = list(
        Permission.objects.filter(content_type__app_label__in={app for app, _ in wanted}).select_related("content_type")
    )
    chosen = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
    missing = sorted(f"{app}.{code}" for app, code in wanted - {(p.content_type.app_label, p.codename) for p in chosen})
    return chosen, missing


@dataclass(frozen=True)
class GroupReport:
    permissions: int  # how many the group has now
    missing: list[str]  # "app_label.codename" wanted but not found (app not installed or not migrated)


@dataclass(frozen=True)
class RolesReport:
    groups: dict[str, GroupReport]
    users_updated: int


@transaction.atomic
def roles_setup() -> RolesReport:
    """Create or update both groups with their permissions and sort every admin user into their role's group."""
    groups: dict[str, GroupReport] = {}
    for name, spec in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions, missing = _permissions(spec)
        group.permissions.set(permissions)
        groups[name] = GroupReport(permissions=len(permissions), missing=missing)
    synced = 0
    for user in User.objects.filter(is_staff=True).prefetch_related("groups"):
        synced += role_group_sync(user)
    return RolesReport(groups=groups, users_updated=synced)


def group_for(user: User) -> str | None:
    """The group a user's memberships call for: "Managers" with an owner or manager membership of any business,
    "Staff" with staff memberships only, none without any (or without admin access)."""
    if not (user.is_staff and user.is_active):
        return None
    with platform():  # memberships of every business: the groups are global, the rows they apply to are not
        roles = set(user.memberships.values_list("role", flat=True))
    if roles & set(_RUNS):
        return MANAGERS
    return STAFF if roles else None


def role_group_sync(user: User) -> bool:
    """Put a user with admin access in the group their memberships call for (`group_for`) and out of the other;
    a user without admin access or memberships in neither. Superusers are left alone. True when something
    changed."""
    if user.is_superuser:
        return False
    target = group_for(user)
    groups = {g.name: g for g in Group.objects.filter(name__in=GROUP_NAMES)}
    current = set(user.groups.filter(name__in=GROUP_NAMES).values_list("name", flat=True))
    changed = False
    for name in current - {target}:
        user.groups.remove(groups[name])
        changed = True
    if target and target not in current:
        group = groups.get(target) or Group.objects.create(name=target)
        user.groups.add(group)
        changed = True
    return changed
