"""The 3-D Secure return page, outside /api/v1 (Moyasar sends the browser here). The lead includes it in
config/urls.py with `path("payments/", include("apps.payments.return_urls"))`."""

from django.urls import path

from apps.payments import views

urlpatterns = [
    path("return", views.payment_return, name="payment-return"),
]
