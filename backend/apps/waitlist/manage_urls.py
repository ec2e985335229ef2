"""`/api/v1/manage/businesses/<slug>/waitlist` (config/urls.py)."""

from django.urls import path

from apps.waitlist import manage_api as api

urlpatterns = business_urlpatterns = [
    path("waitlist", api.ManageWaitlistListApi.as_view(), name="manage-waitlist"),
]
