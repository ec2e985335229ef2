"""Every installed model, ours and third-party, is declared in the personal-data registry (apps.core.personal_data),
and every field that may hold a person's data has a rule or a reason why it is not personal: a new model or field
without one fails here (docs/privacy.md)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from apps.core.personal_data import Declaration, declarations, personal_data_erase, personal_data_export

# Names that suggest a person's data in a text column.
SUSPECT_NAME = re.compile(
    r"name|phone|mobile|email|note|address|(^|_)ip($|_)|text|body|context|payload|user_agent|reason|message|error"
    r"|username|comment|description|bio|repr|session|data|args|token|key|raw|secret|url"
)
ALWAYS_SUSPECT = (models.EmailField, models.GenericIPAddressField, models.JSONField, models.TextField)


def _is_user_link(field: models.Field) -> bool:
    return bool(field.is_relation and field.concrete and field.related_model is not None) and (
        field.related_model._meta.label == settings.AUTH_USER_MODEL  # type: ignore[union-attr]
    )


def suspect_fields(model: type[models.Model]) -> list[str]:
    """The fields of `model` that may hold a person's data."""
    out = []
    for field in model._meta.concrete_fields:
        if _is_user_link(field):
            out.append(field.name)
        elif field.is_relation:
            continue
        elif (
            isinstance(field, ALWAYS_SUSPECT)
            or type(field).__name__ in ("PhoneNumberField", "ArrayField")
            or isinstance(field, models.CharField)
            and SUSPECT_NAME.search(field.name)
        ):
            out.append(field.name)
    return out


def problems(registry: dict[str, Declaration]) -> list[str]:
    found = []
    for model in apps.get_models():
        label = model._meta.label
        declaration = registry.get(label)
        if declaration is None:
            found.append(f"{label}: not declared (register() it, or no_personal_data() with a reason)")
            continue
        if not declaration.holds_personal_data and not declaration.reason and declaration.eraser is None:
            found.append(f"{label}: declared without rules or a reason")
        for name in suspect_fields(model):
            if name not in declaration.fields and name not in declaration.not_personal:
                found.append(f"{label}.{name}: may hold personal data and has no rule")
    return found


def test_every_model_and_every_field_that_may_hold_personal_data_has_a_rule():
    assert problems(declarations()) == []


def test_a_new_field_without_a_rule_fails():
    registry = declarations()
    booking = registry["bookings.Booking"]
    fields = {k: v for k, v in booking.fields.items() if k != "notes"}
    registry["bookings.Booking"] = dataclasses.replace(booking, fields=fields)
    del registry["sessions.Session"]
    assert sorted(problems(registry)) == [
        "bookings.Booking.notes: may hold personal data and has no rule",
        "sessions.Session: not declared (register() it, or no_personal_data() with a reason)",
    ]


def test_third_party_tables_that_hold_people_s_data_are_declared_with_rules():
    registry = declarations()
    for label in (
        "sessions.Session",
        "token_blacklist.OutstandingToken",
        "axes.AccessAttempt",
        "axes.AccessLog",
        "admin.LogEntry",
        "core.IdempotencyRecord",
    ):
        assert registry[label].holds_personal_data, label
    assert registry["procrastinate.ProcrastinateJob"].reason


def test_the_rules_read_as_documented():
    registry = declarations()
    assert registry["accounts.User"].fields["email"].describe() == "erase → None"
    assert registry["invoicing.Invoice"].fields["xml"].describe().startswith("keep (kept as issued: a tax document")


@pytest.mark.django_db
def test_every_declaration_runs_for_a_person_with_nothing():
    """Each declaration's rows, export and erasure run against the real schema (a bad lookup fails here)."""
    user = get_user_model().objects.create_user(phone="+966501119999", name="Nobody Special")
    document = personal_data_export(user)
    sections = {d.section for d in declarations().values() if d.section}
    assert set(document) == {"format", "version", "generated_at", "user_id"} | sections
    assert document["profile"][0]["name"] == "Nobody Special"
    assert all(document[name] == [] for name in sections - {"profile"})
    personal_data_erase(user)
    user.refresh_from_db()
    assert (user.is_active, user.email, str(user.phone)[:8]) == (False, None, "deleted:")
