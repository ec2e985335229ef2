"""Messaging providers (OTP and SMS): the port and errors in `base`, the Authentica client in `authentica`, the
local fake server in `fake`.

Only the port is re-exported here, so importing the package pulls in neither httpx nor the fake server.
"""

from .base import (
    CHANNELS,
    Channel,
    MessagingProvider,
    ProviderConfigurationError,
    ProviderError,
    ProviderInsufficientBalance,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderValidationError,
    SendResult,
)

__all__ = [
    "CHANNELS",
    "Channel",
    "MessagingProvider",
    "ProviderConfigurationError",
    "ProviderError",
    "ProviderInsufficientBalance",
    "ProviderRateLimited",
    "ProviderUnavailable",
    "ProviderValidationError",
    "SendResult",
]
