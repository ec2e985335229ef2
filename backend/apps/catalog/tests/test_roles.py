"""`manage.py setup_roles` (`apps.accounts.roles`): the Managers and Staff groups, and every admin user in the
group their memberships call for (roles are memberships of a business, not global)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.accounts.models import User
from apps.accounts.roles import role_group_sync
from apps.catalog.models import Membership
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def setup_roles() -> str:
    out = StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def test_setup_roles_creates_both_groups_and_sorts_admin_users(make_user):
    manager = make_user(role=User.Role.MANAGER, is_staff=True)  # with a manager membership of the salon
    staff = make_user(is_staff=True)
    MembershipFactory(user=staff, role=Membership.Role.STAFF)
    staff_without_admin = make_user(role=User.Role.STAFF)
    MembershipFactory(user=staff_without_admin, role=Membership.Role.STAFF)
    customer = make_user()
    role_only = make_user(role=User.Role.STAFF, is_staff=True)  # the global role alone gives nothing any more

    first = setup_roles()
    second = setup_roles()

    managers, staff_group = Group.objects.get(name="Managers"), Group.objects.get(name="Staff")
    assert managers.permissions.filter(codename="change_booking").exists()
    assert managers.permissions.filter(codename="add_scheduleexception").exists()
    assert not staff_group.permissions.filter(codename__startswith="delete_").exists()
    assert list(manager.groups.all()) == [managers]
    assert list(staff.groups.all()) == [staff_group]
    assert list(staff_without_admin.groups.all()) == []
    assert list(customer.groups.all()) == []
    assert list(role_only.groups.all()) == []
    assert f"Managers: {managers.permissions.count()} permissions" in first
    assert "not found" not in first  # every app of the permission table is installed and migrated
    assert "2 user(s) moved" in first
    assert "0 user(s) moved" in second  # idempotent


def test_a_membership_change_moves_the_user_to_the_other_group(make_user):
    setup_roles()
    user = make_user(is_staff=True)
    membership = MembershipFactory(user=user, role=Membership.Role.STAFF)
    assert role_group_sync(user) is True
    assert list(user.groups.values_list("name", flat=True)) == ["Staff"]

    membership.role = Membership.Role.OWNER
    membership.save()

    assert role_group_sync(user) is True
    assert list(user.groups.values_list("name", flat=True)) == ["Managers"]
    assert role_group_sync(user) is False

    membership.delete()

    assert role_group_sync(user) is True
    assert list(user.groups.all()) == []


def test_managing_one_business_and_staff_at_another_is_a_manager(make_user):
    setup_roles()
    user = make_user(is_staff=True)
    MembershipFactory(user=user, business=BusinessFactory(), role=Membership.Role.STAFF)
    MembershipFactory(user=user, business=BusinessFactory(), role=Membership.Role.MANAGER)

    role_group_sync(user)

    assert list(user.groups.values_list("name", flat=True)) == ["Managers"]
