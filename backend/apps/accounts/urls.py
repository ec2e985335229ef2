from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("auth/otp/request", api.OtpRequestApi.as_view(), name="otp-request"),
    path("auth/otp/verify", api.OtpVerifyApi.as_view(), name="otp-verify"),
    path("auth/token/refresh", api.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", api.LogoutApi.as_view(), name="logout"),
    path("me", api.MeApi.as_view(), name="me"),
    path("me/export", api.MeExportApi.as_view(), name="me-export"),
    path("me/delete/code", api.MeDeleteCodeApi.as_view(), name="me-delete-code"),
]
