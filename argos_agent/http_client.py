"""A small asyncio HTTP/1.1 client: one keep-alive connection, JSON in and out.

The standard library has no asyncio HTTP client, and a fleet of hundreds of simulated
agents in one process needs one; this covers exactly what the ingest protocol uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEADER_LINES = 100
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class TransportError(Exception):
    """The server could not be reached or the connection broke."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class HttpClient:
    def __init__(self, base_url: str, *, timeout_s: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{base_url}' is not an http:// or https:// URL")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._host_header = parts.netloc.rpartition("@")[2]
        self._timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        """Send one request; a kept-alive connection the server has dropped is retried once."""
        head = self._head(method, path, body, headers or {})
        reused = self._writer is not None
        try:
            return await asyncio.wait_for(self._exchange(head, body), self._timeout_s)
        except (OSError, asyncio.IncompleteReadError, TransportError) as exc:
            await self.close()
            if not reused:
                raise TransportError(str(exc) or exc.__class__.__name__) from exc
        except TimeoutError as exc:
            await self.close()
            raise TransportError("the server did not answer in time") from exc
        try:
            return await asyncio.wait_for(self._exchange(head, body), self._timeout_s)
        except (OSError, asyncio.IncompleteReadError, TransportError, TimeoutError) as exc:
            await self.close()
            raise TransportError(str(exc) or exc.__class__.__name__) from exc

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _head(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        lines = [
            f"{method} {self.prefix}{path} HTTP/1.1",
            f"Host: {self._host_header}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _exchange(self, head: bytes, body: bytes) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, ssl=self._ssl
            )
        assert self._reader is not None
        self._writer.write(head + body)
        await self._writer.drain()
        response = await read_response(self._reader)
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response


async def read_response(reader: asyncio.StreamReader) -> Response:
    status_line = await reader.readline()
    if not status_line:
        raise TransportError("the server closed the connection")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise TransportError("the server sent a malformed status line")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_RESPONSE_BYTES:
            raise TransportError("the response is too large")
        body = await reader.readexactly(length)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.read(MAX_RESPONSE_BYTES)
        headers["connection"] = "close"
    return Response(int(parts[1]), headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return b"".join(chunks)
        total += size
        if total > MAX_RESPONSE_BYTES:
            raise TransportError("the response is too large")
        chunks.append(await reader.readexactly(size))
        await reader.readline()
