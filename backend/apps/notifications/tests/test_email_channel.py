"""The email channel over a real SMTP conversation (a scripted server on loopback): accepted, refused for good,
refused for now, or unreachable, each mapped to what delivery needs to know."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from apps.notifications.channels import ChannelRejected, ChannelUnavailable, Message
from apps.notifications.channels.email import EmailChannel

MESSAGE = Message(
    subject="Booking #1 confirmed", text="Your booking is confirmed.", language="en", reference="notification.1"
)


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP: answers every command with 250, except the one the test wants refused."""

    def handle(self) -> None:
        refuse: dict[str, str] = self.server.refuse  # type: ignore[attr-defined]
        self.wfile.write(b"220 fake ESMTP\r\n")
        in_data = False
        while line := self.rfile.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if text == ".":
                    in_data = False
                    self.server.received += 1  # type: ignore[attr-defined]
                    self.wfile.write((refuse.get("DATA_END", "250 queued") + "\r\n").encode())
                continue
            verb = text.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb in refuse:
                self.wfile.write((refuse[verb] + "\r\n").encode())
            elif verb == "DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp(settings) -> Iterator[socketserver.TCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.refuse = {}  # type: ignore[attr-defined]
    server.received = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 2
    yield server
    server.shutdown()
    server.server_close()


def test_an_accepted_email_returns_its_message_id(smtp):
    delivery = EmailChannel().send(to="john@example.com", message=MESSAGE)
    assert delivery.provider_message_id == "<notification.1@mawid.localhost>"
    assert smtp.received == 1


def test_a_refused_recipient_is_permanent(smtp):
    smtp.refuse["RCPT"] = "550 5.1.1 no such user"
    with pytest.raises(ChannelRejected):
        EmailChannel().send(to="nobody@example.com", message=MESSAGE)


def test_a_temporary_refusal_is_retryable_and_certain(smtp):
    smtp.refuse["MAIL"] = "451 4.3.0 try again later"
    with pytest.raises(ChannelUnavailable) as caught:
        EmailChannel().send(to="john@example.com", message=MESSAGE)
    assert caught.value.retryable
    assert not caught.value.uncertain


def test_an_unreachable_server_is_retryable(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    with pytest.raises(ChannelUnavailable) as caught:
        EmailChannel().send(to="john@example.com", message=MESSAGE)
    assert not caught.value.uncertain  # nothing was sent
