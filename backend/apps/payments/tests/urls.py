"""The project's URLs plus the 3-D Secure return page, until config/urls.py includes `apps.payments.return_urls`."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("payments/", include("apps.payments.return_urls")),
    *project_urlpatterns,
]
