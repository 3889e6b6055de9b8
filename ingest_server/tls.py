"""HTTPS for the Argos server: the TLS context made from ``--tls-cert`` and ``--tls-key``."""

from __future__ import annotations

import ssl

from argos_core.errors import ConfigurationError


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server context (TLS 1.2 or later) with this certificate chain and private key.

    Every way the files can be wrong (missing, unreadable, not PEM, key not matching the
    certificate) is one sentence naming the files.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"TLS file not found: {exc.filename or cert_file}") from exc
    except PermissionError as exc:
        raise ConfigurationError(f"Cannot read TLS file {exc.filename or cert_file}") from exc
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"Cannot use {cert_file} and {key_file} as certificate and key"
            f" ({exc.reason or exc.strerror or 'invalid PEM or the key does not match'})"
        ) from exc
    return context
