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
