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


class VatLineSerializer(serializers.Serializer):
    """An amount as a tax invoice states it, where the business is VAT-registered (`null` where it is not):
    `net` + `vat` = `gross`, all in minor units of one currency (apps/core/vat.py)."""

    rate_bps = serializers.IntegerField(help_text="The VAT rate in basis points: 1500 = 15%.")
    net = MoneySerializer(help_text="Before VAT.")
    vat = MoneySerializer(help_text="The VAT included in `gross`.")
    gross = MoneySerializer(help_text="VAT included: the amount itself.")


def vat_line(*, net: int, vat: int, rate_bps: int, currency: str) -> dict[str, object] | None:
    """The `VatLineSerializer` shape, or None when no VAT applies (`rate_bps` 0: the business is not registered)."""
    if rate_bps <= 0:
        return None
    return {
        "rate_bps": rate_bps,
        "net": Money(net, currency).as_dict(),
        "vat": Money(vat, currency).as_dict(),
        "gross": Money(net + vat, currency).as_dict(),
    }
