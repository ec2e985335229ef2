"""Read the emails the development catcher wrote (EMAIL_BACKEND = the file backend, MAWID_EMAIL_CATCHER_DIR).

    python manage.py mailbox                 the latest 20 emails: when, to, subject, Message-ID
    python manage.py mailbox --to a@b.sa     only those to that address
    python manage.py mailbox --show 1        the plain-text body of the newest one (2: the one before, ...)

Read-only: it never deletes or changes a file.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SEPARATOR = b"-" * 79


def read_mailbox(path: Path) -> list[tuple[float, EmailMessage]]:
    """Every message in the catcher directory, newest first."""
    found: list[tuple[float, EmailMessage]] = []
    if not path.is_dir():
        return found
    for file in path.glob("*.log"):
        mtime = file.stat().st_mtime
        for chunk in file.read_bytes().split(SEPARATOR):
            chunk = chunk.strip(b"\r\n")
            if chunk:
                found.append((mtime, message_from_bytes(chunk, policy=policy.default)))  # type: ignore[arg-type]
    found.sort(key=lambda item: (item[0], item[1].get("Date", "")), reverse=True)
    return found


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


class Command(BaseCommand):
    help = "List or show the emails caught by the development email catcher (read-only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--to", help="only emails to this address")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--show", type=int, metavar="N", help="print email N of the list (1 = newest)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            raise CommandError(f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}; the catcher is the file backend.")
        path = Path(settings.EMAIL_FILE_PATH)
        mails = [m for _, m in read_mailbox(path)]
        if options["to"]:
            wanted = options["to"].strip().lower()
            mails = [m for m in mails if wanted in str(m.get("To", "")).lower()]
        if options["show"]:
            index = options["show"] - 1
            if not 0 <= index < len(mails):
                raise CommandError(f"there are {len(mails)} emails")
            mail = mails[index]
            for header in ("Date", "From", "To", "Subject", "Message-ID", "Content-Language"):
                self.stdout.write(f"{header}: {mail.get(header, '')}")
            self.stdout.write("")
            self.stdout.write(_text(mail))
            return
        self.stdout.write(f"{len(mails)} email(s) in {path}")
        for number, mail in enumerate(mails[: options["limit"]], start=1):
            self.stdout.write(f"{number:>3}  {mail.get('Date', '')}  {mail.get('To', '')}  {mail.get('Subject', '')}")
