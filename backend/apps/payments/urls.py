from django.urls import path

from apps.payments import api, manage_api

urlpatterns = [
    path("bookings/<int:booking_id>/pay", api.BookingPayApi.as_view(), name="booking-pay"),
    path("payments/config", api.PaymentConfigApi.as_view(), name="payment-config"),
    path("payments/<int:payment_id>", api.PaymentDetailApi.as_view(), name="payment-detail"),
    path("payments/<int:payment_id>/capture", api.PaymentCaptureApi.as_view(), name="payment-capture"),
    path("payments/<int:payment_id>/void", api.PaymentVoidApi.as_view(), name="payment-void"),
    path("payments/<int:payment_id>/refund", api.PaymentRefundApi.as_view(), name="payment-refund"),
    path("payments/<int:payment_id>/stcpay-otp", api.PaymentStcPayOtpApi.as_view(), name="payment-stcpay-otp"),
    path("webhooks/moyasar", api.MoyasarWebhookApi.as_view(), name="webhook-moyasar"),
]

# The manager API (an enforced-scope surface: apps/core/scoping.py).
urlpatterns += [
    path(
        "manage/businesses/<slug:slug>/settlements",
        manage_api.BusinessSettlementApi.as_view(),
        name="manage-business-settlements",
    ),
    path(
        "manage/businesses/<slug:slug>/bookings/<int:booking_id>/venue-payments",
        manage_api.ManageBookingVenuePaymentsApi.as_view(),
        name="manage-booking-venue-payments",
    ),
]
