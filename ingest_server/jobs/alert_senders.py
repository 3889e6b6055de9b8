"""Sending one outbox message: a JSON POST to a webhook, or an e-mail over SMTP.

Each sender returns ``None`` when the receiver took the message, else one line saying why
not (kept on the outbox row; the row is retried with backoff).
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from argos_core.alerts.outbox import Message
from argos_core.errors import ConfigurationError

SMTP_URL_ENV = "ARGOS_SMTP_URL"
SMTP_FROM_ENV = "ARGOS_SMTP_FROM"
TIMEOUT_S = 10.0


class WebhookSender:
    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)

    def send(self, message: Message) -> str | None:
        try:
            response = self._client.post(message.target, json=message.body)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def close(self) -> None:
        self._client.close()


class SmtpSettings:
    """``smtp://[user:pass@]host[:port]`` (STARTTLS when the server offers it) or
    ``smtps://…`` (TLS from the start), from ``ARGOS_SMTP_URL``."""

    def __init__(self, url: str, sender: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                f"{SMTP_URL_ENV} must look like smtp://[user:pass@]host:port or smtps://host:port."
            )
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender or f"argos@{socket.getfqdn()}"

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        url = os.environ.get(SMTP_URL_ENV)
        return cls(url, os.environ.get(SMTP_FROM_ENV)) if url else None


class EmailSender:
    def __init__(self, settings: SmtpSettings | None) -> None:
        self._settings = settings

    def send(self, message: Message) -> str | None:
        settings = self._settings
        if settings is None:
            return f"No SMTP server configured ({SMTP_URL_ENV} is not set)."
        mail = render_email(message, settings.sender)
        try:
            if settings.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=TIMEOUT_S,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
            with smtp:
                if not settings.tls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, settings.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


def render_email(message: Message, sender: str) -> EmailMessage:
    """Subject and body carrying the same facts as the webhook."""
    body = message.body
    what = message.event.removeprefix("alert.")
    first = message.alerts[0]
    place = f"{first['tenant']} / {first['company']} / {first['branch']}"
    if len(message.alerts) == 1:
        subject = f"[Argos] {first['severity'].upper()} {what}: {first['hostname']} {first['rule']}"
    else:
        subject = (
            f"[Argos] {first['severity'].upper()} {what}: {len(message.alerts)} agents in"
            f" {place} ({first['rule']})"
        )
    lines = [f"{what.capitalize()}: {first['rule']} ({first['severity']})", f"Where: {place}", ""]
    for alert in message.alerts:
        lines.append(_describe(alert))
    if body.get("reminder") or first.get("reminder"):
        lines += ["", "This is a reminder: the alert is still open and not acknowledged."]
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.target
    mail["Subject"] = subject
    mail.set_content("\n".join(lines) + "\n")
    return mail


def _describe(alert: dict[str, Any]) -> str:
    parts = [f"- {alert['hostname']} (agent {alert['agent_id']})"]
    if alert.get("value") is not None:
        parts.append(f"value {alert['value']:g} (threshold {alert['threshold']:g})")
    parts.append(f"opened {alert['opened_at']}")
    if alert.get("resolved_at"):
        parts.append(f"resolved {alert['resolved_at']}")
    if alert.get("acknowledged_by"):
        parts.append(f"acknowledged by {alert['acknowledged_by']}: {alert.get('comment') or ''}")
    parts.append(f"alert #{alert['alert_id']}")
    return ", ".join(parts)
