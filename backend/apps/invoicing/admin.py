"""Invoices are read-only everywhere, the admin included; tax profiles are edited here (and by managers later)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.catalog.admin_access import BusinessAdminMixin
from apps.core.admin_dates import SafeDateHierarchyMixin
from apps.invoicing.models import Invoice, InvoiceSeries, TaxProfile, ZatcaCredential


@admin.register(TaxProfile)
class TaxProfileAdmin(BusinessAdminMixin, admin.ModelAdmin):
    list_display = ("business", "legal_name_ar", "city", "postal_code")
    search_fields = ("legal_name_ar", "legal_name_en", "cr_number")


class ReadOnlyAdmin(BusinessAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(SafeDateHierarchyMixin, ReadOnlyAdmin):
    list_display = ("number", "kind", "business", "gross", "issued_at", "report_status")
    list_filter = ("kind", "report_status")
    search_fields = ("number", "uuid")
    date_hierarchy = "issued_at"


@admin.register(InvoiceSeries)
class InvoiceSeriesAdmin(ReadOnlyAdmin):
    list_display = ("business", "next_invoice_number", "next_credit_number", "last_icv")


@admin.register(ZatcaCredential)
class ZatcaCredentialAdmin(ReadOnlyAdmin):
    """Onboarding is `manage.py zatca_onboard` (docs/invoicing.md, "Phase 2"); the admin shows where a business
    stands. Keys, tokens and secrets are never shown."""

    list_display = ("business", "environment", "status", "certificate_expires_at", "updated_at")
    list_filter = ("environment", "status")
    fields = ("business", "environment", "status", "egs_serial", "certificate_expires_at", "created_at", "updated_at")
