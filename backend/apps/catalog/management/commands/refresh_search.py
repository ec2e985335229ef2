"""`manage.py refresh_search`: recompute discovery's search columns of every business (or of `--business SLUG`):
what `Service.save` and `business_search_refresh` keep, for rows written in bulk (`bulk_create`, `update()`,
imports) that bypassed them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.catalog.models import Business, Service, business_search_refresh
from apps.catalog.search import normalize
from apps.core.scoping import platform


class Command(BaseCommand):
    help = "Recompute the search text and city keys discovery matches businesses and services by."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--business", help="Only this business (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform():
            businesses = Business.objects.order_by("pk")
            if options.get("business"):
                businesses = businesses.filter(slug=options["business"])
            done = 0
            for business_id in businesses.values_list("pk", flat=True).iterator():
                for pk, name_ar, name_en, text in Service.objects.filter(business_id=business_id).values_list(
                    "pk", "name_ar", "name_en", "search_text"
                ):
                    if text != (folded := normalize(f"{name_ar} {name_en}")):
                        Service.objects.filter(pk=pk).update(search_text=folded)
                business_search_refresh(business_id)
                done += 1
        self.stdout.write(f"Refreshed {done} businesses.")
