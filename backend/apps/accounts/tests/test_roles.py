"""`manage.py setup_roles` (`apps.accounts.roles`): the Managers and Staff groups, and every admin user in the
group of their role."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.accounts.models import User
from apps.accounts.roles import role_group_sync

pytestmark = pytest.mark.django_db


def setup_roles() -> str:
    out = StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def test_setup_roles_creates_both_groups_and_sorts_admin_users(make_user):
    manager = make_user(role=User.Role.MANAGER, is_staff=True)
    staff = make_user(role=User.Role.STAFF, is_staff=True)
    staff_without_admin = make_user(role=User.Role.STAFF)
    customer = make_user()

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
    assert f"Managers: {managers.permissions.count()} permissions" in first
    assert "not found" not in first  # every app of the permission table is installed and migrated
    assert "2 user(s) moved" in first
    assert "0 user(s) moved" in second  # idempotent


def test_a_role_change_moves_the_user_to_the_other_group(make_user):
    setup_roles()
    user = make_user(role=User.Role.STAFF, is_staff=True)
    assert role_group_sync(user) is True

    user.role = User.Role.MANAGER
    user.save()

    assert role_group_sync(user) is True
    assert list(user.groups.values_list("name", flat=True)) == ["Managers"]
    assert role_group_sync(user) is False
