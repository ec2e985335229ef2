"""factory_boy factories for accounts. Every app's tests build users here (an app's tests import only that app
and the apps below it, and accounts is below all that have users)."""

from __future__ import annotations

import factory

from apps.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A customer by default; `UserFactory(role=User.Role.STAFF)` etc. for the others."""

    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"+9665{70000000 + n:08d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    role = User.Role.CUSTOMER
