from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.bookings import manage_urls as bookings_manage
from apps.catalog import manage_urls as catalog_manage
from apps.core.metrics import metrics_view
from apps.core.views import healthz

api_v1 = [
    path("", include("apps.accounts.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.bookings.urls")),
    path("", include("apps.payments.urls")),
    path("", include("apps.invoicing.urls")),
    path("", include("apps.waitlist.urls")),
    path("", include("apps.notifications.urls")),
    # The manager API: a business's owners, managers and staff (apps/catalog/manage_api.py).
    path(
        "manage/businesses/<slug:slug>/",
        include(catalog_manage.business_urlpatterns + bookings_manage.business_urlpatterns),
    ),
    path("manage/businesses/<slug:slug>/", include("apps.waitlist.manage_urls")),  # by name: above payments
    path("manage/me/", include(catalog_manage.me_urlpatterns + bookings_manage.me_urlpatterns)),
]

admin.site.site_header = admin.site.site_title = "Mawid"
admin.site.site_url = "/"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("payments/", include("apps.payments.return_urls")),
    path("feeds/", include("apps.bookings.feed_views")),  # a staff member's private calendar feed (docs/web.md)
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("apps.invoicing.views")),  # the customer's invoice page (/my/bookings/ID/invoices/ID)
    path("", include("apps.web.urls")),  # the website: customers' pages and the business calendar (docs/web.md)
]
