"""Admin sign-in lockouts on a platform of many businesses: a manager lifts the lockouts of their own business's
people (django-axes' records, filtered in `apps.accounts.admin`), never another business's."""

from __future__ import annotations

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.test_admin_lockout import LIMIT, PASSWORD, PHONE, START, fail, manager, sign_in, signed_in
from apps.catalog.models import Membership
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory

pytestmark = pytest.mark.django_db

__all__ = ["manager"]  # the fixture


def test_another_manager_lifts_the_lock_in_the_admin(manager):
    locked_out = Client()
    with time_machine.travel(START, tick=False):
        fail(locked_out, LIMIT)
        colleague = User.objects.create_user("+966500000003", password=PASSWORD, role=User.Role.MANAGER,
                                             is_staff=True)
        stranger = User.objects.create_user("+966500000004", password=PASSWORD, is_staff=True)
        salon, elsewhere = BusinessFactory(), BusinessFactory()
        MembershipFactory(business=salon, user=manager, role=Membership.Role.MANAGER)
        MembershipFactory(business=salon, user=colleague, role=Membership.Role.MANAGER)
        MembershipFactory(business=elsewhere, user=stranger, role=Membership.Role.MANAGER)
        call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123 - the Managers group
        other_client = Client()
        other_client.force_login(stranger)
        attempt = AccessAttempt.objects.get(username=PHONE)

        # A manager of another business neither sees nor lifts it (the lockouts of their own people only).
        assert other_client.get("/admin/axes/accessattempt/").context["cl"].result_count == 0
        assert other_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 302
        assert AccessAttempt.objects.filter(pk=attempt.pk).exists()

        admin_client = Client()
        admin_client.force_login(colleague)

        listing = admin_client.get("/admin/axes/accessattempt/")
        deleted = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

        assert listing.status_code == 200
        assert deleted.status_code == 302
        assert signed_in(sign_in(locked_out))
