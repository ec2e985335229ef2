from django.urls import path

from apps.notifications.webhooks import WhatsAppWebhookApi

urlpatterns: list = [
    path("webhooks/whatsapp", WhatsAppWebhookApi.as_view(), name="webhook-whatsapp"),
]
