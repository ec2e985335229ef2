from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, RateLimited, register_error


@register_error
class OtpInvalid(DomainError):
    code, status, message = "otp_invalid", 400, _("The code is not correct.")


@register_error
class OtpExpired(DomainError):
    code, status, message = "otp_expired", 400, _("The code has expired. Request a new one.")


@register_error
class OtpAttemptsExceeded(RateLimited):
    code, message = "otp_attempts_exceeded", _("Too many wrong codes. Request a new code.")


@register_error
class OtpRateLimited(RateLimited):
    code, message = "otp_rate_limited", _("Too many codes requested. Please wait before trying again.")


@register_error
class OtpCountryNotAllowed(DomainError):
    code, status, message = (
        "otp_country_not_allowed",
        400,
        _("Login codes can only be sent to phone numbers of the supported countries."),
    )


@register_error
class OtpSmsBudgetExhausted(RateLimited):
    code, message = "otp_sms_budget_exhausted", _("Login codes cannot be sent right now. Please try again later.")


@register_error
class OtpBackoff(RateLimited):
    code, message = "otp_backoff", _("Too many wrong codes. Wait before trying again.")


@register_error
class OtpLocked(RateLimited):
    code, message = "otp_locked", _("Too many wrong codes today. Please try again later.")


@register_error
class PlatformRoleHeld(DomainError):
    code, status, message = (
        "holds_platform_role",
        409,
        _("A platform operator's account is removed by another operator, not deleted from the app."),
    )
