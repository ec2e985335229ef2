"""Invoices from payment events (filled in by the services commit)."""

from __future__ import annotations


def subscribe() -> None:
    return None
