"""Periodic expiry of unpaid holds: a `pending_payment` booking whose hold ran out becomes `expired`."""

from __future__ import annotations

from procrastinate.contrib.django import app

from apps.bookings import services


@app.periodic(cron="* * * * *", periodic_id="bookings_expire_holds")
@app.task(queue="bookings", queueing_lock="bookings_expire_holds")
def bookings_expire_holds(timestamp: int) -> int:
    """Every minute: expire the holds that have run out (each booking in its own short transaction)."""
    return services.booking_expire_due()
