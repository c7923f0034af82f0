"""The tests of ops/: a real SMTP server (aiosmtpd on 127.0.0.1) that keeps what it receives."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts, or answers `refuse` (e.g. '451 ...')."""

    def __init__(self):
        self.received = []
        self.refuse = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.received.append(envelope)
        return "250 OK"

    def emails(self):
        return [email.message_from_bytes(envelope.content, policy=email.policy.default) for envelope in self.received]


@pytest.fixture
def inbox(monkeypatch):
    handler = Inbox()
    port = handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("HOMEWORK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HOMEWORK_SMTP_PORT", str(port))
    monkeypatch.setenv("HOMEWORK_SMTP_SECURITY", "none")
    monkeypatch.setenv("HOMEWORK_MAIL_FROM", "clinic@example.org")
    monkeypatch.setenv("HOMEWORK_PUBLIC_URL", "https://homework.example.org")
    yield handler
    controller.stop()
