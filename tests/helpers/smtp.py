"""A real SMTP server for tests (aiosmtpd on loopback) and what tests read from mail."""
from __future__ import annotations

import re
import socket
import threading
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What a real SMTP server on loopback received: parsed messages and envelopes.

    `refuse` decides per DATA command whether to answer with an error instead
    (e.g. lambda n: "451 4.3.0 try again later" for every other message).
    """

    def __init__(self):
        self.messages: list = []
        self.envelopes: list = []
        self.lock = threading.Lock()
        self.refuse = None
        self.data_count = 0

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default as default_policy

        with self.lock:
            self.data_count += 1
            answer = self.refuse(self.data_count) if self.refuse else None
            if answer:
                return answer
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def wait(self, count: int, timeout: float = 15.0) -> list:
        """Block until `count` messages arrived (fails the test after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        pytest.fail(f"expected {count} e-mails, got {len(self.messages)}")

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]


class SmtpServer:
    """aiosmtpd on a chosen free port; can be stopped and started again on that port.
    With `utf8` it offers SMTPUTF8 (RFC 6531), as many servers do and some don't."""

    def __init__(self, port: int | None = None, utf8: bool = False):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.controller = None
        self.utf8 = utf8
        self.connections = 0  # SMTP connections accepted since the first start

    def start(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        server = self

        class Counting(SMTP):
            def connection_made(self, transport):
                if self.transport is None:  # not the same connection again after STARTTLS
                    server.connections += 1
                super().connection_made(transport)

        class CountingController(Controller):
            def factory(self):
                return Counting(self.handler, **self.SMTP_kwargs)

        self.controller = CountingController(self.mailbox, hostname="127.0.0.1",
                                             port=self.port, enable_SMTPUTF8=self.utf8)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def links_in(message) -> list[str]:
    """Every http(s) link in a message: its parts' text and its List-Unsubscribe header."""
    found = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found += re.findall(r'https?://[^\s"<>]+', part.get_content())
    found += re.findall(r"<(https?://[^>]+)>", message.get("List-Unsubscribe", ""))
    return list(dict.fromkeys(found))
