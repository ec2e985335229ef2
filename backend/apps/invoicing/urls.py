from django.urls import path

from apps.invoicing import api, manage_api

urlpatterns = [
    path("bookings/<int:booking_id>/invoices", api.BookingInvoiceListApi.as_view(), name="booking-invoices"),
    path(
        "bookings/<int:booking_id>/invoices/<int:invoice_id>.html",
        api.BookingInvoiceHtmlApi.as_view(),
        name="invoice-document-html",
    ),
    path(
        "bookings/<int:booking_id>/invoices/<int:invoice_id>.xml",
        api.BookingInvoiceXmlApi.as_view(),
        name="invoice-document-xml",
    ),
]

# The manager API (an enforced-scope surface: apps/core/scoping.py).
urlpatterns += [
    path(
        "manage/businesses/<slug:slug>/invoices",
        manage_api.BusinessInvoiceListApi.as_view(),
        name="manage-business-invoices",
    ),
    path(
        "manage/businesses/<slug:slug>/invoices/export.csv",
        manage_api.BusinessInvoiceCsvApi.as_view(),
        name="manage-business-invoices-csv",
    ),
    path(
        "manage/businesses/<slug:slug>/invoices/export.zip",
        manage_api.BusinessInvoiceZipApi.as_view(),
        name="manage-business-invoices-zip",
    ),
    path(
        "manage/businesses/<slug:slug>/tax-profile",
        manage_api.TaxProfileApi.as_view(),
        name="manage-business-tax-profile",
    ),
]
