"""Invoices in the manager API (`/api/v1/manage/businesses/<slug>/invoices...`, an enforced-scope surface): a
period's invoices and credit notes as JSON (paginated), as CSV (one line per document, with totals), or as a zip
of their XML files. Owners and managers of the business (and platform operators); anyone else gets 404.

`/api/v1/manage/businesses/<slug>/tax-profile`: the seller data the business's invoices carry (GET, PUT) and its
ZATCA status, read-only. A `ManageApi` like the catalog's routes: owners and managers; the business's staff get
403, anyone else 404."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import asdict
from datetime import date
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.manage_api import SLUG, ManageApi
from apps.catalog.models import Business
from apps.catalog.selectors import user_manages
from apps.core.errors import NotFound
from apps.core.pagination import Pagination
from apps.core.scoping import for_businesses
from apps.invoicing import profile as profiles
from apps.invoicing.api import TAGS, AnyAccept, InvoiceFieldsSerializer
from apps.invoicing.models import Invoice, TaxProfile, ZatcaCredential
from apps.invoicing.selectors import EXPORT_MAX_DAYS, invoices_for_period
from apps.invoicing.ubl import RIYADH, amount

CSV_COLUMNS = [
    "number",
    "kind",  # invoice | credit
    "type_code",  # 388 | 381
    "issued_at",  # Riyadh time, as on the document
    "uuid",
    "icv",
    "booking_id",
    "original_number",
    "reason",
    "means",  # 48 card | 10 cash
    "vat_rate",
    "net",
    "vat",
    "gross",
    "currency",
    "report_status",
    "invoice_hash",
]


@extend_schema_serializer(component_name="ManageInvoice")
class ManageInvoiceSerializer(InvoiceFieldsSerializer):
    """As the customer sees it, without the customer's download links (managers export the XML in a zip)."""


@extend_schema_serializer(component_name="PaginatedManageInvoiceList")
class InvoicePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ManageInvoiceSerializer(many=True)


PeriodSerializer = type(
    "InvoicePeriodSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(input_formats=["%Y-%m-%d"]),
        "to": serializers.DateField(input_formats=["%Y-%m-%d"]),
    },
)

PARAMETERS = [
    OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH),
    OpenApiParameter("from", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True),
    OpenApiParameter("to", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True),
]
PERIOD = (
    f"Local dates in the business's time zone, both ends included, at most {EXPORT_MAX_DAYS} days. Owners and "
    "managers of the business (and platform operators); anyone else gets 404."
)


def _business(request: Request, slug: str) -> Business:
    business = Business.objects.filter(slug=slug).first()
    if business is None or not user_manages(request.user, business.pk):
        raise NotFound()
    return business


def _period(request: Request) -> tuple[date, date]:
    period = PeriodSerializer(data=request.query_params)
    period.is_valid(raise_exception=True)
    return period.validated_data["from"], period.validated_data["to"]


def _signed(invoice: Invoice, halalas: int) -> str:
    """Credit notes count negative in the export's totals (their documents state positive amounts)."""
    return amount(halalas) if invoice.kind == Invoice.Kind.INVOICE else f"-{amount(halalas)}"


def invoices_csv(invoices: list[Invoice]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i in invoices:
        writer.writerow(
            [
                i.number,
                i.kind,
                i.type_code,
                i.issued_at.astimezone(RIYADH).strftime("%Y-%m-%d %H:%M:%S"),
                i.uuid,
                i.icv,
                i.booking_id,
                i.original.number if i.original_id and i.original else "",
                i.reason,
                i.means,
                f"{i.rate_bps // 100}.{i.rate_bps % 100:02d}",
                _signed(i, i.net),
                _signed(i, i.vat),
                _signed(i, i.gross),
                i.currency,
                i.report_status,
                i.invoice_hash,
            ]
        )
    total = {
        name: sum(getattr(i, name) * (1 if i.kind == Invoice.Kind.INVOICE else -1) for i in invoices)
        for name in ("net", "vat", "gross")
    }
    writer.writerow(
        ["total", "", "", "", "", "", "", "", "", "", "", *(_money(total[n]) for n in ("net", "vat", "gross")), "SAR"]
        + ["", ""]
    )
    return out.getvalue()


def _money(halalas: int) -> str:
    return amount(halalas) if halalas >= 0 else f"-{amount(-halalas)}"


class BusinessInvoiceListApi(APIView):
    @extend_schema(
        operation_id="manage_business_invoices",
        tags=["manage", *TAGS],
        summary="A business's invoices and credit notes for a period",
        description=f"In ICV (issue) order, paginated. {PERIOD}",
        parameters=PARAMETERS
        + [
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
        responses={200: InvoicePageSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        business = _business(request, slug)
        start, end = _period(request)
        with for_businesses(business.pk):
            queryset = invoices_for_period(business=business, start=start, end=end)
            paginator = Pagination()
            page = list(paginator.paginate_queryset(queryset, request, view=self) or [])
            return paginator.get_paginated_response(ManageInvoiceSerializer(page, many=True).data)


class BusinessInvoiceCsvApi(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="manage_business_invoices_csv",
        tags=["manage", *TAGS],
        summary="A period's invoices and credit notes (CSV)",
        description=(
            "One line per document (amounts in SAR with two decimals; credit notes negative), then a `total` line. "
            + PERIOD
        ),
        parameters=PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The documents, CSV.")},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        business = _business(request, slug)
        start, end = _period(request)
        with for_businesses(business.pk):
            body = invoices_csv(list(invoices_for_period(business=business, start=start, end=end)))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="invoices-{business.slug}-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
        )
        return response


class BusinessInvoiceZipApi(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="manage_business_invoices_zip",
        tags=["manage", *TAGS],
        summary="A period's invoices and credit notes (zip of the XML files)",
        description=f"`NUMBER.xml` per document, the exact bytes reported to ZATCA, and `invoices.csv`. {PERIOD}",
        parameters=PARAMETERS,
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="A zip file.")},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        business = _business(request, slug)
        start, end = _period(request)
        with for_businesses(business.pk):
            invoices = list(invoices_for_period(business=business, start=start, end=end))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for invoice in invoices:
                archive.writestr(f"{invoice.number}.xml", invoice.xml.encode("utf-8"))
            archive.writestr("invoices.csv", invoices_csv(invoices))
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="invoices-{business.slug}-{start:%Y%m%d}-{end:%Y%m%d}.zip"'
        )
        return response


# --- the tax profile ------------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="ManageTaxProfile")
class TaxProfileSerializer(serializers.ModelSerializer):
    """The whole profile (PUT replaces it; the optional fields left out become blank)."""

    class Meta:
        model = TaxProfile
        fields = list(profiles.PROFILE_FIELDS)
        extra_kwargs = {
            "legal_name_en": {"required": False},
            "cr_number": {"required": False},
            "additional_number": {"required": False},
        }


@extend_schema_serializer(component_name="ManageZatcaStatus")
class ZatcaStatusSerializer(serializers.Serializer):
    environment = serializers.ChoiceField(choices=ZatcaCredential.Environment.choices)
    status = serializers.ChoiceField(choices=ZatcaCredential.Status.choices)
    active = serializers.BooleanField(
        help_text="A production certificate is issued: invoices are stamped and reported."
    )
    certificate_expires_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="ManageTaxProfileStatus")
class TaxProfileStatusSerializer(serializers.Serializer):
    vat_number = serializers.CharField(help_text="Set in the business's policies (empty: not VAT-registered).")
    vat_registered = serializers.BooleanField()
    tax_profile_missing = serializers.BooleanField(
        help_text="VAT-registered without a tax profile: invoices are issued without the seller's address."
    )
    tax_profile = TaxProfileSerializer(allow_null=True)
    zatca = ZatcaStatusSerializer(
        allow_null=True, help_text="The ZATCA (Fatoora) credential, read-only; null when the business has none."
    )


def _tax_status(business: Business, profile: TaxProfile | None) -> dict[str, Any]:
    zatca = profiles.zatca_status(business)
    return TaxProfileStatusSerializer(
        {
            "vat_number": business.vat_number,
            "vat_registered": business.is_vat_registered,
            "tax_profile_missing": business.is_vat_registered and profile is None,
            "tax_profile": profile,
            "zatca": asdict(zatca) if zatca is not None else None,
        }
    ).data


class TaxProfileApi(ManageApi):
    @extend_schema(
        operation_id="manage_tax_profile_retrieve",
        tags=["manage", *TAGS],
        summary="The business's tax profile and ZATCA status",
        parameters=[SLUG],
        responses={200: TaxProfileStatusSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(_tax_status(self.business, profiles.tax_profile_get(self.business)))

    @extend_schema(
        operation_id="manage_tax_profile_update",
        tags=["manage", *TAGS],
        summary="Set the business's tax profile (the seller data on its invoices)",
        description="Applies to the invoices issued from now on; issued ones keep their seller.",
        parameters=[SLUG],
        request=TaxProfileSerializer,
        responses={200: TaxProfileStatusSerializer},
    )
    def put(self, request: Request, slug: str) -> Response:
        body = TaxProfileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        profile = profiles.tax_profile_save(business=self.business, fields=dict(body.validated_data))
        return Response(_tax_status(self.business, profile))
