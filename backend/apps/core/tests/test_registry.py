"""`apps.core.registry`: the slots and hook lists through which lower apps reach the apps above them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.registry import Hooks, NothingRegistered, Slot


def test_a_slot_is_empty_until_registered_and_says_so_by_name():
    slot = Slot[Callable[[], int]]("demo.counter", filled_by="DemoConfig.ready() fills it.")

    assert slot.peek() is None
    with pytest.raises(NothingRegistered) as info:
        slot.get()
    assert isinstance(info.value, ImproperlyConfigured)
    assert str(info.value) == "Nothing is registered in the slot 'demo.counter'. DemoConfig.ready() fills it."


def test_a_slot_keeps_the_last_registration_and_register_can_decorate():
    slot = Slot[Callable[[], int]]("demo.counter")

    @slot.register
    def first() -> int:
        return 1

    assert first() == 1  # the decorator gives the function back
    assert slot.get() is first

    def second() -> int:
        return 2

    assert slot.register(second) is second
    assert slot.get() is second
    assert slot.peek() is second


def test_a_slot_override_holds_for_the_block_and_restores_even_on_error():
    slot = Slot[str]("demo.name")
    slot.register("production")

    with slot.override("test") as value:
        assert value == "test"
        assert slot.get() == "test"
        with slot.override(None):
            assert slot.peek() is None
            with pytest.raises(NothingRegistered):
                slot.get()
        assert slot.get() == "test"
    assert slot.get() == "production"

    with pytest.raises(RuntimeError), slot.override("broken"):
        raise RuntimeError
    assert slot.get() == "production"


def test_a_slot_reset_empties_it():
    slot = Slot[str]("demo.name")
    slot.register("production")

    slot.reset()

    assert slot.peek() is None


def test_hooks_keep_registration_order_each_value_once():
    hooks = Hooks[str]("demo.names")
    assert hooks.all() == ()

    assert hooks.register("a") == "a"
    hooks.register("b")
    hooks.register("a")

    assert hooks.all() == ("a", "b")


def test_hooks_override_holds_exactly_the_given_values_then_restores():
    hooks = Hooks[str]("demo.names")
    hooks.register("production")

    with hooks.override("x", "y", "x") as values:
        assert values == ("x", "y") == hooks.all()
        hooks.register("z")  # a registration inside the block is gone with it
        with hooks.override():
            assert hooks.all() == ()
    assert hooks.all() == ("production",)

    with pytest.raises(RuntimeError), hooks.override("broken"):
        raise RuntimeError
    assert hooks.all() == ("production",)

    hooks.reset()
    assert hooks.all() == ()

