from django.urls import path

from apps.waitlist import api

urlpatterns = [
    path("waitlist", api.WaitlistListJoinApi.as_view(), name="waitlist"),
    path("waitlist/<int:entry_id>", api.WaitlistLeaveApi.as_view(), name="waitlist-entry"),
    path("waitlist/offers/<str:token>", api.WaitlistOfferDetailApi.as_view(), name="waitlist-offer"),
    path("waitlist/offers/<str:token>/claim", api.WaitlistOfferClaimApi.as_view(), name="waitlist-offer-claim"),
    path("waitlist/offers/<str:token>/decline", api.WaitlistOfferDeclineApi.as_view(), name="waitlist-offer-decline"),
]
