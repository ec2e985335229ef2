"""Extension points: a lower app names a place, an app above it fills the place, and nobody imports upwards.

The lower app declares the place at module level and reads it when it needs it. The app above registers in
its `AppConfig.ready()` (or, for an admin inline, at the import of its `admin.py`):

    # apps/bookings/hooks.py: the place; bookings reads it with `payment_summary_source.peek()`
    payment_summary_source = Slot[PaymentSummary]("bookings.payment_summary_source")

    # apps/payments/apps.py, in PaymentsConfig.ready()
    payment_summary_source.register(payment_summaries)

* `Slot[T]` holds one value; the last registration wins. `get()` raises `NothingRegistered` (an
  `ImproperlyConfigured`, naming the slot and who should fill it) while it is empty, for places the lower app
  cannot do without; `peek()` gives None instead, for optional ones.
* `Hooks[T]` holds any number of values in registration order; registering the same value again changes
  nothing. `all()` returns them.

Tests swap what is registered for one block with `override(...)`, which puts the previous contents back
afterwards, even on an exception. `reset()` empties a registry for good (a test that does so restores it).
Registration happens at start-up, in one thread, so nothing here locks; an override is seen by every thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class NothingRegistered(ImproperlyConfigured):
    """A required `Slot` was read while empty: the app that fills it is not installed or has not registered."""


class Slot(Generic[T]):
    """One value that an app above fills. `name` identifies the slot in errors; `filled_by` says who fills it."""

    def __init__(self, name: str, *, filled_by: str = "") -> None:
        self.name = name
        self.filled_by = filled_by
        self._value: T | None = None

    def __repr__(self) -> str:
        return f"<Slot {self.name}: {self._value!r}>"

    def register(self, value: T) -> T:
        """Fill the slot (the last registration wins). Returns `value`, so that it can decorate a function."""
        self._value = value
        return value

    def get(self) -> T:
        """The registered value; `NothingRegistered` while the slot is empty."""
        value = self._value
        if value is None:
            hint = f" {self.filled_by}" if self.filled_by else ""
            raise NothingRegistered(f"Nothing is registered in the slot {self.name!r}.{hint}")
        return value

    def peek(self) -> T | None:
        """The registered value, or None while the slot is empty (for optional slots)."""
        return self._value

    def reset(self) -> None:
        """Empty the slot."""
        self._value = None

    @contextmanager
    def override(self, value: T | None) -> Iterator[T | None]:
        """Hold `value` (None: nothing) for the block, then what was registered before."""
        previous = self._value
        self._value = value
        try:
            yield value
        finally:
            self._value = previous


class Hooks(Generic[T]):
    """Any number of values that apps above add, in registration order, each once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._values: tuple[T, ...] = ()

    def __repr__(self) -> str:
        return f"<Hooks {self.name}: {self._values!r}>"

    def register(self, value: T) -> T:
        """Add `value` (again: no change). Returns `value`, so that it can decorate a function or a class."""
        if value not in self._values:
            self._values = (*self._values, value)
        return value

    def all(self) -> tuple[T, ...]:
        return self._values

    def reset(self) -> None:
        """Remove every value."""
        self._values = ()

    @contextmanager
    def override(self, *values: T) -> Iterator[tuple[T, ...]]:
        """Hold exactly `values` (none: nothing) for the block, then what was registered before."""
        previous = self._values
        self._values = tuple(v for i, v in enumerate(values) if v not in values[:i])
        try:
            yield self._values
        finally:
            self._values = previous
