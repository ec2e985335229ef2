"""The customer's invoices: `GET /api/v1/bookings/ID/invoices` (a list) and each document as the printable HTML
page or the UBL XML (`.../invoices/INVOICE_ID.html`, `.xml`). The booking's customer only; 404 for anyone else."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.money import Money, MoneySerializer
from apps.invoicing.models import Invoice
from apps.invoicing.rendering import invoice_html
from apps.invoicing.selectors import invoice_for_customer, invoices_for_customer_booking

TAGS = ["invoices"]


class AnyAccept(BaseContentNegotiation):
    """A document is what it is (HTML, XML, CSV, zip) whatever the client accepts; errors are JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class InvoiceFieldsSerializer(serializers.Serializer):
    """An invoice or credit note as the API shows it (the manager export's rows)."""

    id = serializers.IntegerField()
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Invoice.Kind.choices)
    type_code = serializers.CharField(help_text="388 (invoice) or 381 (credit note).")
    number = serializers.CharField()
    icv = serializers.IntegerField()
    issued_at = serializers.DateTimeField()
    booking_id = serializers.IntegerField()
    net = serializers.SerializerMethodField()
    vat = serializers.SerializerMethodField()
    gross = serializers.SerializerMethodField()
    vat_rate = serializers.SerializerMethodField(help_text='The VAT rate in percent, e.g. "15.00".')
    means = serializers.ChoiceField(choices=Invoice.Means.choices, help_text="48 card, 10 cash.")
    original_number = serializers.SerializerMethodField(help_text="Credit notes: the invoice they credit.")
    reason = serializers.CharField()
    qr = serializers.CharField(help_text="The QR code's content: base64 TLV.")
    invoice_hash = serializers.CharField()
    report_status = serializers.ChoiceField(choices=Invoice.ReportStatus.choices)

    @extend_schema_field(MoneySerializer)
    def get_net(self, invoice: Invoice) -> dict[str, Any]:
        return Money(invoice.net, invoice.currency).as_dict()

    @extend_schema_field(MoneySerializer)
    def get_vat(self, invoice: Invoice) -> dict[str, Any]:
        return Money(invoice.vat, invoice.currency).as_dict()

    @extend_schema_field(MoneySerializer)
    def get_gross(self, invoice: Invoice) -> dict[str, Any]:
        return Money(invoice.gross, invoice.currency).as_dict()

    def get_vat_rate(self, invoice: Invoice) -> str:
        return f"{invoice.rate_bps // 100}.{invoice.rate_bps % 100:02d}"

    def get_original_number(self, invoice: Invoice) -> str:
        return invoice.original.number if invoice.original_id and invoice.original else ""


class InvoiceSerializer(InvoiceFieldsSerializer):
    """The customer's view: with the links to download it."""

    html_url = serializers.SerializerMethodField(help_text="The printable page (Arabic and English).")
    xml_url = serializers.SerializerMethodField(help_text="The UBL 2.1 XML, as reported to ZATCA.")

    def get_html_url(self, invoice: Invoice) -> str:
        return reverse("invoice-document-html", args=[invoice.booking_id, invoice.pk])

    def get_xml_url(self, invoice: Invoice) -> str:
        return reverse("invoice-document-xml", args=[invoice.booking_id, invoice.pk])


def document_response(invoice: Invoice, document: str) -> HttpResponse:
    """The HTML page (CSS inlined: a file that prints as it looks) or the XML bytes, as a download."""
    if document == "xml":
        response = HttpResponse(invoice.xml.encode("utf-8"), content_type="application/xml; charset=utf-8")
    else:
        response = HttpResponse(invoice_html(invoice), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.{document}"'
    response["Cache-Control"] = "private, no-store"
    return response


class BookingInvoiceListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="bookings_invoices_list",
        tags=TAGS,
        summary="The invoices and credit notes of one of your bookings",
        description=(
            "ZATCA simplified tax invoices (388) and credit notes (381) issued for the booking's payments, in "
            "issue order. Only the booking's customer sees them; anyone else gets 404. Empty when the business is "
            "not VAT-registered."
        ),
        responses={200: InvoiceSerializer(many=True)},
    )
    def get(self, request: Request, booking_id: int) -> Response:
        invoices = invoices_for_customer_booking(user=request.user, booking_id=booking_id)  # type: ignore[arg-type]
        return Response(InvoiceSerializer(invoices, many=True).data)


class BookingInvoiceDocumentApi(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = AnyAccept
    document = "html"

    def get(self, request: Request, booking_id: int, invoice_id: int) -> HttpResponse:
        invoice = invoice_for_customer(user=request.user, booking_id=booking_id, invoice_id=invoice_id)  # type: ignore[arg-type]
        return document_response(invoice, self.document)


class BookingInvoiceHtmlApi(BookingInvoiceDocumentApi):
    document = "html"

    @extend_schema(
        operation_id="bookings_invoices_html",
        tags=TAGS,
        summary="One invoice as a printable page",
        description="Arabic and English, with the Hijri date and the QR code. The booking's customer only.",
        responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The invoice, HTML.")},
    )
    def get(self, request: Request, booking_id: int, invoice_id: int) -> HttpResponse:
        return super().get(request, booking_id, invoice_id)


class BookingInvoiceXmlApi(BookingInvoiceDocumentApi):
    document = "xml"

    @extend_schema(
        operation_id="bookings_invoices_xml",
        tags=TAGS,
        summary="One invoice as UBL 2.1 XML",
        description="The exact document reported to ZATCA. The booking's customer only.",
        responses={(200, "application/xml"): OpenApiResponse(OpenApiTypes.STR, description="The invoice, XML.")},
    )
    def get(self, request: Request, booking_id: int, invoice_id: int) -> HttpResponse:
        return super().get(request, booking_id, invoice_id)
