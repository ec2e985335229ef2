"""The personal-data registry: for every model, which fields hold a person's data and what happens to them when the
person deletes their account; which rows belong to a person and what of them their export shows.

Each app declares its own models in its own `personal_data.py`, imported from its `AppConfig.ready()` (so a lower
app never imports a higher one; third-party models are declared by the app that uses them: sessions, JWT tokens
and the admin lockout by accounts, the job queue by core). `apps/core/tests/test_personal_data.py` walks every
installed model and field: a model nobody declared, or a field that looks like personal data (a link to the user,
a name, phone, email, address, note, text, JSON...) without a rule or a reason why it is not personal, fails.

    register(
        Booking,
        section="bookings",                      # where the export shows the person's rows (None: not exported)
        rows=lambda user: Booking.objects.filter(customer_id=user.pk),
        export=booking_export,                   # row -> dict (what the person sees of it)
        fields={"notes": erase(""), "customer": keep("bookings stay, linked to the anonymous customer")},
        not_personal={"cancel_reason": "..."},  # fields the heuristic flags that are not personal, and why
    )
    no_personal_data(ContentType, reason="Django's table of models")

Rules: `erase(value)` (blank, None or a placeholder), `pseudonymise(value)` (a value that no longer names the
person but keeps the row unique or linked), `keep(reason)` (kept as it is: a legal obligation or the money
trail; the reason is shown in docs/privacy.md), `delete_row(reason)` (the person's rows go). A value may be a
callable `(row, user) -> value`, applied row by row (e.g. scrubbing names out of JSON).

`personal_data_export(user)` builds the export document; `personal_data_erase(user)` applies the rules to every
declared model's rows of the person, in `order` (the user row itself last). Account deletion
(`apps.accounts.services.account_delete`) also asks `deletion_refusals` (a role the person holds; catalog) and
runs `deletion_steps` first (future bookings cancelled as the business would; bookings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.registry import Hooks

FORMAT = "mawid.personal-data"
VERSION = 1

ERASE = "erase"
PSEUDONYMISE = "pseudonymise"
KEEP = "keep"
DELETE_ROW = "delete row"

Value = Any  # a constant, or a callable (row, user) -> value


@dataclass(frozen=True)
class Rule:
    action: str
    value: Value = None
    reason: str = ""

    def describe(self) -> str:
        if self.action == KEEP:
            return f"keep ({self.reason})"
        if self.action == DELETE_ROW:
            return "delete row" + (f" ({self.reason})" if self.reason else "")
        what = "computed" if callable(self.value) else repr(self.value)
        return f"{self.action} → {what}" + (f" ({self.reason})" if self.reason else "")


def erase(value: Value = "", reason: str = "") -> Rule:
    return Rule(ERASE, value, reason)


def pseudonymise(value: Value, reason: str = "") -> Rule:
    return Rule(PSEUDONYMISE, value, reason)


def keep(reason: str) -> Rule:
    return Rule(KEEP, None, reason)


def delete_row(reason: str = "") -> Rule:
    return Rule(DELETE_ROW, None, reason)


RowsOf = Callable[[Any], Any]  # user -> QuerySet of the person's rows
Exporter = Callable[[Any], dict[str, Any]]  # row -> what the export shows of it
Eraser = Callable[[Any], None]  # user -> None: a model's own erasure, instead of the generic one


@dataclass(frozen=True)
class Declaration:
    model: type[models.Model]
    fields: Mapping[str, Rule] = field(default_factory=dict)
    not_personal: Mapping[str, str] = field(default_factory=dict)
    rows: RowsOf | None = None
    section: str | None = None
    export: Exporter | None = None
    eraser: Eraser | None = None
    delete_rows: bool = False
    order: int = 50
    reason: str = ""  # a model without personal data: why

    @property
    def holds_personal_data(self) -> bool:
        return bool(self.fields) or self.delete_rows


_declarations: dict[str, Declaration] = {}


def _expand(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """`{"a b c": x}` is `{"a": x, "b": x, "c": x}`: one reason for several fields."""
    out: dict[str, Any] = {}
    for names, value in mapping.items():
        for name in names.split():
            out[name] = value
    return out


def register(
    model: type[models.Model],
    *,
    fields: Mapping[str, Rule] | None = None,
    not_personal: Mapping[str, str] | None = None,
    rows: RowsOf | None = None,
    section: str | None = None,
    export: Exporter | None = None,
    eraser: Eraser | None = None,
    delete_rows: bool = False,
    order: int = 50,
) -> Declaration:
    """Declare what of `model` is personal data. Every field named must exist (checked here)."""
    rules = _expand(fields or {})
    reasons = _expand(not_personal or {})
    names = {f.name for f in model._meta.get_fields()}
    unknown = (set(rules) | set(reasons)) - names
    if unknown:
        raise ValueError(f"{model._meta.label}: no such field(s) {sorted(unknown)}")
    if (rules or delete_rows) and rows is None:
        raise ValueError(f"{model._meta.label}: personal fields need `rows` (which rows are the person's)")
    declaration = Declaration(
        model=model,
        fields=rules,
        not_personal=reasons,
        rows=rows,
        section=section,
        export=export,
        eraser=eraser,
        delete_rows=delete_rows,
        order=order,
    )
    _declarations[model._meta.label] = declaration
    return declaration


def no_personal_data(model: type[models.Model], *, reason: str, not_personal: Mapping[str, str] | None = None) -> None:
    """Declare that `model` holds nobody's personal data (why), naming the fields that look otherwise."""
    reasons = _expand(not_personal or {})
    unknown = set(reasons) - {f.name for f in model._meta.get_fields()}
    if unknown:
        raise ValueError(f"{model._meta.label}: no such field(s) {sorted(unknown)}")
    _declarations[model._meta.label] = Declaration(model=model, not_personal=reasons, reason=reason)


def declarations() -> dict[str, Declaration]:
    return dict(_declarations)


def declaration_for(model: type[models.Model]) -> Declaration | None:
    return _declarations.get(model._meta.label)


# --- account deletion: what other apps add ------------------------------------------------------------------------

# A reason the person may not delete their account now (a DomainError to raise), or None. Catalog: a role held.
deletion_refusals: Hooks[Callable[[Any], DomainError | None]] = Hooks("core.personal_data.deletion_refusals")
# Steps run before the erasure, in the deletion's transaction: bookings cancels future bookings as the business.
deletion_steps: Hooks[Callable[[Any, datetime], None]] = Hooks("core.personal_data.deletion_steps")


# --- export --------------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def personal_data_export(user: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything Mawid holds about `user`, by section: a versioned JSON-ready document."""
    now = now or timezone.now()
    sections: dict[str, list[dict[str, Any]]] = {}
    for declaration in sorted(_declarations.values(), key=lambda d: (d.order, d.model._meta.label)):
        if declaration.section is None or declaration.rows is None or declaration.export is None:
            continue
        rows = declaration.rows(user)
        sections.setdefault(declaration.section, []).extend(_plain(declaration.export(row)) for row in rows)
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now.isoformat(),
        "user_id": user.pk,
        **{name: sections[name] for name in sorted(sections)},
    }


# --- erasure -------------------------------------------------------------------------------------------------------


def _erase_generic(declaration: Declaration, user: Any) -> None:
    assert declaration.rows is not None  # noqa: S101 - register() requires rows for personal fields
    queryset = declaration.rows(user)
    if declaration.delete_rows:
        queryset.delete()
        return
    constant: dict[str, Any] = {}
    computed: dict[str, Callable[[Any, Any], Any]] = {}
    for name, rule in declaration.fields.items():
        if rule.action in (ERASE, PSEUDONYMISE):
            if callable(rule.value):
                computed[name] = rule.value
            else:
                constant[name] = rule.value
    if computed:
        for row in queryset:
            for name, fn in computed.items():
                setattr(row, name, fn(row, user))
            row.save(update_fields=list(computed))
    if constant:
        queryset.update(**constant)


def personal_data_erase(user: Any) -> None:
    """Apply every declaration's rules to `user`'s rows (the caller holds the transaction)."""
    for declaration in sorted(_declarations.values(), key=lambda d: (d.order, d.model._meta.label)):
        if not declaration.holds_personal_data and declaration.eraser is None:
            continue
        if declaration.eraser is not None:
            declaration.eraser(user)
        else:
            _erase_generic(declaration, user)


# --- helpers the declarations share ---------------------------------------------------------------------------------

IDENTITY_KEYS = frozenset({"name", "first_name", "last_name", "email", "phone", "mobile", "customer_name", "address"})


def scrub_json(value: Any, keys: Iterable[str] = IDENTITY_KEYS) -> Any:
    """A copy of a JSON-like value with every key in `keys` (at any depth) set to None."""
    wanted = frozenset(keys)
    if isinstance(value, Mapping):
        return {k: (None if k in wanted else scrub_json(v, wanted)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, wanted) for v in value]
    return value


def scrub_field(name: str) -> Callable[[Any, Any], Any]:
    """A rule value: the row's JSON field `name` with identity keys removed."""

    def scrub(row: Any, user: Any) -> Any:
        return scrub_json(getattr(row, name))

    scrub.__name__ = f"scrub_{name}"
    return scrub
