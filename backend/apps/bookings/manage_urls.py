"""`/api/v1/manage/businesses/<slug>/bookings...` and `/api/v1/manage/me/schedule`, `calendar-feed` (config/urls.py)."""

from django.urls import path

from apps.bookings import manage_api as api

business_urlpatterns = [
    path("bookings", api.ManageBookingListApi.as_view(), name="manage-bookings"),
    path("bookings/<int:booking_id>", api.ManageBookingDetailApi.as_view(), name="manage-booking"),
    path("bookings/<int:booking_id>/confirm", api.ManageBookingConfirmApi.as_view(), name="manage-booking-confirm"),
    path("bookings/<int:booking_id>/complete", api.ManageBookingCompleteApi.as_view(), name="manage-booking-complete"),
    path("bookings/<int:booking_id>/no-show", api.ManageBookingNoShowApi.as_view(), name="manage-booking-no-show"),
    path("bookings/<int:booking_id>/cancel", api.ManageBookingCancelApi.as_view(), name="manage-booking-cancel"),
    path(
        "bookings/<int:booking_id>/reschedule",
        api.ManageBookingRescheduleApi.as_view(),
        name="manage-booking-reschedule",
    ),
]

me_urlpatterns = [
    path("schedule", api.MyScheduleApi.as_view(), name="manage-me-schedule"),
    path("calendar-feed", api.MyCalendarFeedApi.as_view(), name="manage-me-calendar-feed"),
]
