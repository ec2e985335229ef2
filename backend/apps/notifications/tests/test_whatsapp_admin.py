"""WhatsApp's webhook items and contacts in the admin: the platform operator's alone (superusers), read-only. A
business's manager neither sees the module on the admin's index nor reaches its lists or rows (the cross-business
table is config/tests/test_admin_isolation.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.tests.fixtures import manager  # noqa: F401 - a fixture
from apps.notifications.models import WhatsAppContact, WhatsAppEvent

pytestmark = pytest.mark.django_db

EVENTS = "/admin/notifications/whatsappevent/"
CONTACTS = "/admin/notifications/whatsappcontact/"


@pytest.fixture
def rows() -> tuple[WhatsAppEvent, WhatsAppContact]:
    event = WhatsAppEvent.objects.create(
        key="status:wamid.1:delivered", kind=WhatsAppEvent.Kind.STATUS, payload={"status": "delivered"},
        processed_at=timezone.now(), outcome="delivered",
    )  # fmt: skip
    contact = WhatsAppContact.objects.create(wa_id="966501112233", last_inbound_at=timezone.now())
    return event, contact


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_platform_operator_reads_them_and_changes_nothing(rows):
    event, contact = rows
    boss = client_of(User.objects.create_superuser(phone="+966500000999", password="pw-for-tests"))

    events = boss.get(EVENTS)
    contacts = boss.get(CONTACTS, {"q": "9665011"})
    event_page = boss.get(f"{EVENTS}{event.pk}/change/")
    posted = boss.post(f"{EVENTS}{event.pk}/change/", {"outcome": "edited"})

    assert [e.pk for e in events.context["cl"].result_list] == [event.pk]
    assert [c.pk for c in contacts.context["cl"].result_list] == [contact.pk]
    assert event_page.status_code == 200
    assert 'name="_save"' not in event_page.content.decode()
    assert posted.status_code == 403
    assert WhatsAppEvent.objects.get(pk=event.pk).outcome == "delivered"
    assert boss.get(f"{CONTACTS}add/").status_code == 403
    assert boss.get(f"{CONTACTS}{contact.pk}/delete/").status_code == 403
    assert "WhatsApp" in boss.get("/admin/").content.decode()


def test_a_business_manager_gets_none_of_it(rows, manager):  # noqa: F811 - the fixture
    event, contact = rows
    client = client_of(manager)

    assert client.get(EVENTS).status_code == 403
    assert client.get(CONTACTS).status_code == 403
    assert client.get(f"{EVENTS}{event.pk}/change/").status_code in (302, 403)
    assert client.get(f"{CONTACTS}{contact.pk}/change/").status_code in (302, 403)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "WhatsApp" not in index.content.decode()
