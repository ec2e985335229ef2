"""The admin of a business-owned model, for many businesses on one platform (`BusinessAdminMixin`).

The admin's scope middleware (`apps.catalog.middleware`) already limits every query of a scoped model to the
user's member businesses. On top of that, for a user who is not a platform operator (superuser):

* lists, pages, autocompletes and inlines show the rows of the businesses they run (owner or manager), plus, at a
  business where they are only staff, the rows `own_rows` names (their bookings, their profile): nothing else;
* every choice of a related row (staff, service, branch, business) offers only rows of the businesses they run;
* a new row's business is the user's when they run one (set and hidden), a choice among theirs when several;
  an existing row's business never changes here (read-only);
* the form checks on the server that every related row (a staff member's branch and services, a service's
  branches, a closure's branch) belongs to the row's business, whatever was posted, for superusers too;
* list edits and actions touch only rows of businesses they run (`own_row_actions` names the actions a staff
  member may run on their own rows; the services check those).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import ManagerAccessMixin, managed_business_ids
from apps.catalog.models import Business

NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)


def is_business_owned(model: type[models.Model]) -> bool:
    return any(f.name == "business" and f.is_relation for f in model._meta.concrete_fields)


def row_business_id(obj: Any) -> int | None:
    return getattr(obj, "business_id", None)


def business_choices(request: HttpRequest, model: type[models.Model], queryset: QuerySet | None = None) -> QuerySet:
    """The rows of `model` the admin user may pick: everything for a superuser, else those of the businesses they
    run (businesses themselves: the ones they run)."""
    qs = queryset if queryset is not None else model._default_manager.all()
    if request.user.is_superuser:
        return qs
    ids = managed_business_ids(request)
    if model is Business:
        return qs.filter(pk__in=ids)
    if is_business_owned(model):
        return qs.filter(business_id__in=ids)
    return qs


def _related_rows(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (QuerySet, list, tuple)):
        return list(value)
    return [value]


def check_same_business(form: forms.BaseForm, business_id: int | None, *, skip: tuple[str, ...] = ()) -> None:
    """A form error on each field whose chosen row(s) belong to another business than `business_id`."""
    if business_id is None:
        return
    for name, value in list(form.cleaned_data.items()):
        if name in skip or name == "business":
            continue
        for row in _related_rows(value):
            if isinstance(row, models.Model) and is_business_owned(type(row)) and row_business_id(row) != business_id:
                form.add_error(name, forms.ValidationError(_("This belongs to another business."), code="other_business"))
                break


def scoped_form(form_class: type[forms.ModelForm], request: HttpRequest, model: type[models.Model]) -> type:
    """`form_class` that sets a new row's business when the user runs exactly one, takes it from the row's parent
    (`business_parent`) otherwise, and refuses related rows of another business."""
    managed = managed_business_ids(request)
    only = managed[0] if len(managed) == 1 and not request.user.is_superuser else None
    parent_name = getattr(model, "business_parent", None)

    class BusinessCheckedForm(form_class):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.instance.pk is None and self.instance.business_id is None and only is not None:
                self.instance.business_id = only

        def clean(self) -> dict[str, Any]:
            data = super().clean()
            business_id = self.instance.business_id
            chosen = data.get("business")
            if business_id is None and chosen is not None:
                business_id = chosen.pk
            parent = data.get(parent_name) if parent_name else None
            if business_id is None and parent is not None:
                business_id = parent.business_id
            if business_id is not None and not request.user.is_superuser and business_id not in managed:
                raise forms.ValidationError(_("You do not run this business."), code="other_business")
            if business_id is not None:
                self.instance.business_id = business_id
            check_same_business(self, business_id)
            return data

    BusinessCheckedForm.__name__ = form_class.__name__
    return BusinessCheckedForm


class BusinessAdminMixin(ManagerAccessMixin):
    """For the ModelAdmin (or inline) of a business-owned model: see the module docstring."""

    # Actions a staff member may run on the rows `own_rows` shows them (the services check each row); every other
    # action runs on the rows of the businesses the user runs only.
    own_row_actions: frozenset[str] = frozenset()

    def own_rows(self, request: HttpRequest) -> Q:
        """What the user sees at a business where they are only staff; nothing unless an admin says."""
        return NOTHING

    def managed_rows(self, request: HttpRequest) -> Q:
        return Q(business_id__in=managed_business_ids(request))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return qs
        return qs.filter(self.managed_rows(request) | self.own_rows(request))

    # --- choices ------------------------------------------------------------------------------------------------

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        model = db_field.related_model
        if "queryset" not in kwargs and (model is Business or is_business_owned(model)):
            kwargs["queryset"] = business_choices(request, model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        model = db_field.related_model
        if "queryset" not in kwargs and (model is Business or is_business_owned(model)):
            kwargs["queryset"] = business_choices(request, model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    # --- the business field ------------------------------------------------------------------------------------

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is not None and "business" not in fields and self._has_business_field():
            fields.append("business")  # a row never moves to another business
        return fields

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        if obj is None and not request.user.is_superuser and len(managed_business_ids(request)) == 1:
            exclude.append("business")  # theirs, set by the form
        return exclude

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is None and not request.user.is_superuser and len(managed_business_ids(request)) == 1:
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "business"]}) for name, opts in fieldsets
            ]
        return fieldsets

    def _has_business_field(self) -> bool:
        return is_business_owned(self.model)  # type: ignore[attr-defined]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        return scoped_form(form, request, self.model)  # type: ignore[attr-defined]

    # --- list edits and actions ---------------------------------------------------------------------------------

    def _get_list_editable_queryset(self, request: HttpRequest, prefix: str) -> QuerySet:
        qs = super()._get_list_editable_queryset(request, prefix)  # type: ignore[misc]
        return qs if request.user.is_superuser else qs.filter(self.managed_rows(request))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return actions
        return {
            name: (func if name in self.own_row_actions else self._on_managed_rows(func), name, description)
            for name, (func, _name, description) in actions.items()
        }

    def _on_managed_rows(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
            return func(modeladmin, request, queryset.filter(self.managed_rows(request)))

        return run


class BusinessInlineMixin(BusinessAdminMixin):
    """For an inline of a business-owned model: its rows are the parent's (whose page the user may see already),
    and belong to the parent's business (they take it when saved); each form is checked against it."""

    def own_rows(self, request: HttpRequest) -> Q:
        return EVERYTHING  # the parent row decides: an inline only lists the rows of a parent the user sees

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        """An inline's rows belong to the parent's business (they take it when saved); each is checked."""
        formset = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]

        class BusinessCheckedFormSet(formset):  # type: ignore[valid-type, misc]
            def clean(self) -> None:
                super().clean()
                business_id = row_business_id(self.instance)
                for form in self.forms:
                    if hasattr(form, "cleaned_data") and form.has_changed():
                        check_same_business(form, business_id, skip=(self.fk.name,))

        return BusinessCheckedFormSet
