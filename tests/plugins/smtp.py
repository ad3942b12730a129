"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives.

One server runs for the test session on a free port, so that the session's
real worker (``tests/plugins/worker.py``), whose settings are read from its
environment as it starts, can be pointed at it. ``smtp_server`` gives a test
the server with its mailbox emptied.

Each message is kept with the pid of the process that sent it (found from the
client's end of the TCP connection while it is still open), so a test can tell
an email sent by a worker from one sent by an eager task in the test process.
"""

import email
import email.policy
import socket
import threading
from dataclasses import dataclass

import psutil
import pytest
from aiosmtpd.controller import Controller

from tests.timing import scaled, wait_until

START_TIMEOUT = 10  # seconds, scaled


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sender_pid(peer):
    """The pid of the process whose local end of a TCP connection is ``peer``."""
    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.laddr and tuple(connection.laddr[:2]) == tuple(peer[:2]) and connection.pid:
                return connection.pid
    except (psutil.Error, OSError):
        pass
    return None


@dataclass
class Received:
    sender: str
    recipients: list
    message: email.message.EmailMessage
    pid: int | None

    @property
    def subject(self):
        return self.message["Subject"]

    def part(self, content_type):
        """The decoded text of the first part of ``content_type`` ("text/plain", "text/html")."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        raise AssertionError(f"no {content_type} part in {self.subject!r}")


class _Mailbox:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.refusals = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refusals:
                self.refusals -= 1
                return "451 4.3.0 Try again later (refused by the test)"
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), message, _sender_pid(session.peer))
        with self.lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.host = "127.0.0.1"
        self.port = free_port()
        self._mailbox = _Mailbox()
        self._controller = Controller(self._mailbox, hostname=self.host, port=self.port,
                                      ready_timeout=scaled(START_TIMEOUT))

    def start(self):
        self._controller.start()

    def stop(self):
        self._controller.stop()

    @property
    def messages(self):
        with self._mailbox.lock:
            return list(self._mailbox.messages)

    def to(self, address):
        return [m for m in self.messages if address in m.recipients]

    def refuse(self, count):
        """Answer the next ``count`` messages with a temporary failure (451)."""
        with self._mailbox.lock:
            self._mailbox.refusals = count

    def clear(self):
        with self._mailbox.lock:
            self._mailbox.messages.clear()
            self._mailbox.refusals = 0

    def wait_for(self, address, count=1, *, timeout=30, detail=None):
        """Wait until ``address`` has received ``count`` messages; -> them."""
        return wait_until(lambda: len(self.to(address)) >= count and self.to(address),
                          f"{count} email(s) to {address} at the SMTP server on port {self.port}",
                          timeout=timeout, detail=detail)

    def django_settings(self):
        """Settings that send this process's email to the server."""
        return {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": self.host, "EMAIL_PORT": self.port}


@pytest.fixture(scope="session")
def smtp_server_session():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(smtp_server_session):
    """The session's SMTP server, its mailbox empty."""
    smtp_server_session.clear()
    yield smtp_server_session
    smtp_server_session.clear()
