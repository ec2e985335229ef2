"""`python manage.py whatsapp_templates [--text]`: the WhatsApp templates to submit to Meta for approval, as the
JSON bodies of `POST /<version>/<WABA_ID>/message_templates` (one per name and language), or as a readable list."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from apps.notifications.whatsapp_templates import BUTTON_TITLES, FOR_MESSAGE, TEMPLATES


class Command(BaseCommand):
    help = "List the WhatsApp templates (names, languages, bodies, buttons) for submission to Meta."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--text", action="store_true", help="a readable list instead of JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["text"]:
            for spec in TEMPLATES.values():
                used_for = ", ".join(k for k, v in FOR_MESSAGE.items() if v == spec.name)
                self.stdout.write(f"{spec.name} ({spec.category}; for {used_for})")
                for language, body in spec.body.items():
                    self.stdout.write(f"  [{language}] {body}")
                    if spec.buttons:
                        titles = " | ".join(BUTTON_TITLES[b][language] for b in spec.buttons)
                        self.stdout.write(f"        buttons: {titles}")
            return
        bodies = [
            {
                "name": spec.name,
                "language": language,
                "category": spec.category,
                "components": spec.components(language),
            }
            for spec in TEMPLATES.values()
            for language in spec.body
        ]
        self.stdout.write(json.dumps(bodies, ensure_ascii=False, indent=2))
