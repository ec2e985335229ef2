"""Quick-reply button payloads that cannot be forged: `<action>:<booking id>:<signature>`, signed with Django's
signing (SECRET_KEY, a salt of their own). A tap comes back in a webhook whose payload only *asks* for the action:
the booking services re-check it, and the sender must be the booking's customer."""

from __future__ import annotations

from django.core import signing

ACTIONS = ("confirm", "cancel", "reschedule")
_SALT = "mawid.whatsapp.button"


def button_payload(action: str, booking_id: int) -> str:
    return signing.Signer(salt=_SALT, sep=":").sign(f"{action}:{booking_id}")


def read_payload(payload: str) -> tuple[str, int] | None:
    """(action, booking id) of a genuine payload, or None (tampered, unknown action, garbage)."""
    try:
        value = signing.Signer(salt=_SALT, sep=":").unsign(payload or "")
    except signing.BadSignature:
        return None
    action, _, booking = value.partition(":")
    if action not in ACTIONS or not booking.isdigit():
        return None
    return action, int(booking)
