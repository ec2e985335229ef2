"""`/api/v1/manage/businesses/<slug>/...` (catalog half; config/urls.py mounts it) and `/api/v1/manage/me/...`."""

from django.urls import path

from apps.catalog import manage_api as api
from apps.catalog import season_api

business_urlpatterns = [
    path("branches", api.BranchListCreateApi.as_view(), name="manage-branches"),
    path("branches/<int:branch_id>", api.BranchDetailApi.as_view(), name="manage-branch"),
    path("services", api.ServiceListCreateApi.as_view(), name="manage-services"),
    path("services/<int:service_id>", api.ServiceDetailApi.as_view(), name="manage-service"),
    path("staff", api.StaffListCreateApi.as_view(), name="manage-staff-list"),
    path("staff/<int:staff_id>", api.StaffDetailApi.as_view(), name="manage-staff"),
    path("staff/<int:staff_id>/hours", api.StaffHoursApi.as_view(), name="manage-staff-hours"),
    path("staff/<int:staff_id>/time-off", api.StaffTimeOffApi.as_view(), name="manage-staff-time-off"),
    path(
        "staff/<int:staff_id>/time-off/<int:time_off_id>",
        api.StaffTimeOffDetailApi.as_view(),
        name="manage-staff-time-off-detail",
    ),
    path("closures", api.ClosureListCreateApi.as_view(), name="manage-closures"),
    path("closures/<int:closure_id>", api.ClosureDetailApi.as_view(), name="manage-closure"),
    path("holidays", api.HolidayListApi.as_view(), name="manage-holidays"),
    path("holidays/accept", api.HolidayAcceptApi.as_view(), name="manage-holidays-accept"),
    path("seasons", season_api.SeasonListCreateApi.as_view(), name="manage-seasons"),
    path("seasons/ramadan-proposal", season_api.RamadanProposalApi.as_view(), name="manage-seasons-ramadan-proposal"),
    path("seasons/ramadan", season_api.RamadanAcceptApi.as_view(), name="manage-seasons-ramadan"),
    path("seasons/<int:season_id>", season_api.SeasonDetailApi.as_view(), name="manage-season"),
    path("policies", api.PoliciesApi.as_view(), name="manage-policies"),
    path("time-off-requests", api.TimeOffRequestListApi.as_view(), name="manage-time-off-requests"),
    path(
        "time-off-requests/<int:request_id>/approve",
        api.TimeOffRequestApproveApi.as_view(),
        name="manage-time-off-request-approve",
    ),
    path(
        "time-off-requests/<int:request_id>/decline",
        api.TimeOffRequestDeclineApi.as_view(),
        name="manage-time-off-request-decline",
    ),
]

me_urlpatterns = [
    path("time-off", api.MyTimeOffApi.as_view(), name="manage-me-time-off"),
]
