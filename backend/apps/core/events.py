"""Domain events: apps announce facts, other apps subscribe, nobody imports the subscriber.

An event is a frozen dataclass in the publishing app's `events.py` (past tense: `BookingConfirmed`).
`publish()` calls every subscriber synchronously, inside the caller's transaction: a subscriber that writes
rows or defers jobs commits or rolls back together with the fact it reacts to. Subscribers register in their
`AppConfig.ready()` and must be quick (write rows, defer jobs; never call a provider).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger("mawid.events")

E = TypeVar("E")
Handler = Callable[[Any], None]
_subscribers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def unsubscribe(event_type: type, handler: Handler) -> None:
    if handler in _subscribers.get(event_type, []):
        _subscribers[event_type].remove(handler)


def subscribers(event_type: type) -> list[Handler]:
    return list(_subscribers.get(event_type, []))


def publish(event: object) -> None:
    """Call every subscriber of `type(event)` now. An exception propagates and rolls the caller back."""
    handlers = _subscribers.get(type(event), [])
    logger.info("event_published", extra={"event_type": type(event).__name__, "subscribers": len(handlers)})
    for handler in list(handlers):
        handler(event)
