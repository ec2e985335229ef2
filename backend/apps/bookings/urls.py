from django.urls import path

from apps.bookings import api

urlpatterns = [
    path("bookings", api.BookingListCreateApi.as_view(), name="bookings"),
    path("bookings/<int:booking_id>", api.BookingDetailApi.as_view(), name="booking-detail"),
    path("bookings/<int:booking_id>/cancel", api.BookingCancelApi.as_view(), name="booking-cancel"),
    path("bookings/<int:booking_id>/reschedule", api.BookingRescheduleApi.as_view(), name="booking-reschedule"),
    path("bookings/<int:booking_id>/complete", api.BookingCompleteApi.as_view(), name="booking-complete"),
    path("bookings/<int:booking_id>/ics", api.BookingIcsApi.as_view(), name="booking-ics"),
    path("bookings/<int:booking_id>/no-show", api.BookingNoShowApi.as_view(), name="booking-no-show"),
]
