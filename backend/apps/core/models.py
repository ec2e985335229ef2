from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a request made with an `Idempotency-Key`, replayed for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The business the request acted on, when it is known (a booking's): its managers' audit, and the tenant key.
    business = models.ForeignKey("catalog.Business", on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=255, help_text="HTTP method and route of the first request.")
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class ThrottleHit(models.Model):
    """Request counts per throttle key and fixed window (see core/throttling.py). The table is UNLOGGED."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField(help_text="Start of the window, unix seconds.")
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="throttle_unique_key_window")]

    def __str__(self) -> str:
        return f"{self.key} @{self.window_start}: {self.hits}"
