from __future__ import annotations

from dataclasses import dataclass

from rest_framework import serializers


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (halalas for SAR). Never a float."""

    amount: int
    currency: str = "SAR"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError("Money.currency must be an ISO 4217 code")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def as_dict(self) -> dict[str, int | str]:
        return {"amount": self.amount, "currency": self.currency}

    def format(self) -> str:
        return f"{self.amount // 100}.{self.amount % 100:02d} {self.currency}"


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units (halalas for SAR).")
    currency = serializers.CharField(min_length=3, max_length=3)

    def to_representation(self, instance: Money | dict) -> dict:
        if isinstance(instance, Money):
            return instance.as_dict()
        return {"amount": instance["amount"], "currency": instance["currency"]}
