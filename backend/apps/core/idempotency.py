"""`Idempotency-Key` for POST endpoints that create bookings or payments (see shared/API.md).

The same key with the same body within 24 hours returns the first response again without doing the work twice;
the same key with another body (or another endpoint) is a 409 `idempotency_key_reused`. The key is claimed in
its own committed row before the work starts, so two concurrent retries cannot both do the work: the second one
gets 409 `idempotency_key_in_flight` until the first has answered. Server errors release the key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import error_body
from apps.core.errors import DomainError, IdempotencyKeyInFlight, IdempotencyKeyReused, ValidationFailed
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)


def _request_hash(request: Request, kwargs: dict[str, Any]) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    raw = f"{request.method} {request.path}\n{json.dumps(kwargs, sort_keys=True, default=str)}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


_CLAIM_SQL = f"""
    INSERT INTO "{IdempotencyRecord._meta.db_table}" (user_id, key, scope, request_hash, created_at)
    VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT ON CONSTRAINT idempotency_unique_user_key DO NOTHING
    RETURNING id
"""  # noqa: S608 - only the model's table name goes into the text


def _claim(*, request: Request, key: str, scope: str, request_hash: str) -> IdempotencyRecord | None:
    """Claim the key; returns None when we own it now, or the earlier record.

    A new key (the usual case) is claimed by one statement, committed at once: the row exists before the work
    starts. A key seen before takes the locked path below (replay it, or take over a stale claim).
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [request.user.pk, key, scope, request_hash, now])
        if cursor.fetchone() is not None:
            return None
    with transaction.atomic():
        existing = (
            IdempotencyRecord.objects.select_for_update().filter(user=request.user, key=key).first()
        )
        if existing is not None:
            stale = existing.created_at < now - TTL or (
                existing.completed_at is None and existing.created_at < now - IN_FLIGHT_TIMEOUT
            )
            if not stale:
                return existing
            existing.delete()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    user=request.user, key=key, scope=scope, request_hash=request_hash
                )
        except IntegrityError:
            return IdempotencyRecord.objects.get(user=request.user, key=key)
    return None


def _business_of(body: Any) -> int | None:
    """The business a response is about (a booking's, a payment's `business`), when it names one: the record's
    tenant key."""
    value = body.get("business") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView's `post` (the user must be authenticated)."""

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > 255 or not key.isprintable():
            raise ValidationFailed(fields={HEADER: ["Must be at most 255 printable characters."]})
        scope = f"{request.method} {request.path}"
        request_hash = _request_hash(request, kwargs)
        earlier = _claim(request=request, key=key, scope=scope, request_hash=request_hash)
        if earlier is not None:
            if earlier.request_hash != request_hash or earlier.scope != scope:
                raise IdempotencyKeyReused()
            if earlier.completed_at is None:
                raise IdempotencyKeyInFlight(retry_after=1)
            response = Response(earlier.response_body, status=earlier.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = view_method(self, request, *args, **kwargs)
        except Exception as exc:
            if isinstance(exc, DomainError) and exc.status < 500:
                # A refusal is an answer too: replay it. Render it the way the handler will.
                IdempotencyRecord.objects.filter(user=request.user, key=key).update(
                    status_code=exc.status,
                    response_body=error_body(exc.code, exc.message, exc.fields, **exc.extra),
                    completed_at=timezone.now(),
                )
            else:
                IdempotencyRecord.objects.filter(user=request.user, key=key).delete()
            raise
        if response.status_code >= 500:
            IdempotencyRecord.objects.filter(user=request.user, key=key).delete()
        else:
            body = json.loads(json.dumps(response.data, default=str))
            IdempotencyRecord.objects.filter(user=request.user, key=key).update(
                status_code=response.status_code,
                response_body=body,
                completed_at=timezone.now(),
                business_id=_business_of(body),
            )
        return response

    return wrapper
