from django.urls import path

from apps.catalog import api

urlpatterns = [
    path("services", api.ServiceListApi.as_view(), name="service-list"),
    path("services/<int:service_id>", api.ServiceDetailApi.as_view(), name="service-detail"),
    path("staff", api.StaffListApi.as_view(), name="staff-list"),
    path("staff/<int:staff_id>", api.StaffDetailApi.as_view(), name="staff-detail"),
    path("staff/<int:staff_id>/availability", api.StaffAvailabilityApi.as_view(), name="staff-availability"),
    path("availability", api.AnyStaffAvailabilityApi.as_view(), name="availability-any-staff"),
    path("businesses", api.BusinessListApi.as_view(), name="business-list"),
    path("businesses/<slug:slug>", api.BusinessDetailApi.as_view(), name="business-detail"),
    path("businesses/<slug:slug>/services", api.BusinessServiceListApi.as_view(), name="business-services"),
    path("businesses/<slug:slug>/staff", api.BusinessStaffListApi.as_view(), name="business-staff"),
    path("businesses/<slug:slug>/availability", api.BusinessAvailabilityApi.as_view(), name="business-availability"),
]
