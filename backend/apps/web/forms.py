from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OtpChallenge
from apps.accounts.phone import InvalidPhone, normalize_phone


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "05XXXXXXXX", "dir": "ltr"}
        ),
    )
    channel = forms.ChoiceField(
        label=_("Send the code by"),
        choices=[(OtpChallenge.Channel.SMS, _("SMS")), (OtpChallenge.Channel.WHATSAPP, _("WhatsApp"))],
        initial=OtpChallenge.Channel.SMS,
        widget=forms.RadioSelect,
    )

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"], mobile_only=True)
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from exc


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        min_length=4,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*", "dir": "ltr"}
        ),
    )

    def clean_code(self) -> Any:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("Enter the digits of the code."))
        return code
