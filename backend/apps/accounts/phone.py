"""Phone numbers as people type them, stored and returned in E.164."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, *, region: str | None = None, mobile_only: bool = False) -> str:
    """`0501234567`, `+966 50 123 4567`, `966501234567`, `00966501234567` → `+966501234567`."""
    if not isinstance(raw, str):
        raise InvalidPhone(_("Enter a valid phone number."))
    text = raw.strip()
    if not text or len(text) > 32:
        raise InvalidPhone(_("Enter a valid phone number."))
    region = region or settings.PHONENUMBER_DEFAULT_REGION
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(_("Enter a valid phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        # People in the default region often type the country code without `+` or `00`.
        digits = "".join(ch for ch in text if ch.isdigit())
        if not text.startswith("+") and digits and not digits.startswith("0"):
            try:
                number = phonenumbers.parse("+" + digits, None)
            except phonenumbers.NumberParseException as exc:
                raise InvalidPhone(_("Enter a valid phone number.")) from exc
        if not phonenumbers.is_valid_number(number):
            raise InvalidPhone(_("Enter a valid phone number."))
    if mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhone(_("Enter a mobile phone number that can receive messages."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(serializers.CharField):
    """A serializer field that accepts any common form and yields E.164."""

    def __init__(self, *, mobile_only: bool = True, **kwargs):
        self.mobile_only = mobile_only
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", "Any common form (0501234567, +966 50 123 4567, 966501234567); E.164 out.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value, mobile_only=self.mobile_only)
        except InvalidPhone as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value):
        return str(value)
