"""`python -m apps.notifications.whatsapp_fake [--port 8104] ...`: run the WhatsApp Cloud API fake until SIGINT or
SIGTERM (`dev.py run` starts it with the app's WHATSAPP_* values and the webhook URL)."""

from __future__ import annotations

import argparse
import os

from apps.core.fakes import run_until_signalled
from apps.notifications.whatsapp_fake import WhatsAppFake


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m apps.notifications.whatsapp_fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--token", default=env.get("WHATSAPP_ACCESS_TOKEN", "fake-whatsapp-token"))
    parser.add_argument("--phone-number-id", default=env.get("WHATSAPP_PHONE_NUMBER_ID", "100000000000001"))
    parser.add_argument("--app-secret", default=env.get("WHATSAPP_APP_SECRET", "fake-whatsapp-app-secret"))
    parser.add_argument("--verify-token", default=env.get("WHATSAPP_VERIFY_TOKEN", "fake-whatsapp-verify-token"))
    parser.add_argument("--webhook-url", default="", help="where status and inbound webhooks are posted")
    parser.add_argument("--status-delay", type=float, default=1.0, help="seconds between sent, delivered, read")
    args = parser.parse_args(argv)

    def make() -> WhatsAppFake:
        return WhatsAppFake(
            host=args.host,
            port=args.port,
            token=args.token,
            phone_number_id=args.phone_number_id,
            app_secret=args.app_secret,
            verify_token=args.verify_token,
            callback_url=args.webhook_url,
            status_delay=args.status_delay,
        )

    return run_until_signalled(
        make,
        name="whatsapp-fake",
        banner=lambda fake: (
            f"WhatsApp fake listening on {fake.base_url}\n"
            f"  outbox: {fake.base_url}/_fake/messages   webhooks to: {fake.callback_url or '(none)'}"
        ),
    )


raise SystemExit(main())
