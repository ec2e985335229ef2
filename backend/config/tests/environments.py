"""Environments the settings tests load the production settings with."""

# What an operator sets in production: real-looking keys and provider addresses, nothing loopback, no fake's key.
PRODUCTION = {
    "DATABASE_URL": "postgres://mawid:secret@db.example.com:5432/mawid",
    "DJANGO_SECRET_KEY": "prod-" + "k3y" * 20,
    "DJANGO_ALLOWED_HOSTS": "mawid.example.com",
    "AUTHENTICA_BASE_URL": "https://api.authentica.sa",
    "AUTHENTICA_API_KEY": "live-authentica-key-0123456789",
    "MOYASAR_BASE_URL": "https://api.moyasar.com/v1",
    "MOYASAR_SECRET_KEY": "sk_live_0123456789abcdef",
    "MOYASAR_PUBLISHABLE_KEY": "pk_live_0123456789abcdef",
    "MOYASAR_WEBHOOK_SECRET": "whsec-0123456789abcdef",
}
