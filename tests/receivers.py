"""Real receivers for notifications: an HTTP server taking webhook POSTs and an aiosmtpd
SMTP server, both on 127.0.0.1, recording what they were given."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class WebhookReceiver:
    url: str
    bodies: list[dict] = field(default_factory=list)
    status: int = 200
    received: threading.Event = field(default_factory=threading.Event)
    answer_after_s: float = 0.0  # a slow receiver: answers each POST this much later


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def webhook_receiver(port: int | None = None) -> Iterator[WebhookReceiver]:
    port = port or free_port()
    receiver = WebhookReceiver(f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(receiver.answer_after_s)
            if receiver.status == 200:
                receiver.bodies.append(json.loads(body))
                receiver.received.set()
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Mailbox:
    url: str
    messages: list[Message] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, _server, _session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.received.set()
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    port = free_port()
    mailbox = Mailbox(f"smtp://127.0.0.1:{port}")
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
