"""The admin's date drill-down (`date_hierarchy`) without Django's out-of-range crash.

Django 5.2 builds the drill-down's range from `?<field>__year=` etc. and computes its end outside its own error
handling: `?start__year=9999` (`year 10000 is out of range`) or `?start__year=9999&start__month=12&start__day=31`
(`OverflowError`) answered 500 (Django ticket #37357, fixed after 5.2). With this mixin such a URL gets what any
bad filter gets: the changelist again with `?e=1` ("invalid filter"). Add it to every ModelAdmin that sets
`date_hierarchy` (a test walks the admin site to make sure).
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest


class SafeDateHierarchyChangeList(ChangeList):
    def get_filters(self, request: HttpRequest):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class SafeDateHierarchyMixin:
    """For a ModelAdmin with `date_hierarchy`: an out-of-range drill-down is an invalid filter, not a 500."""

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return SafeDateHierarchyChangeList
