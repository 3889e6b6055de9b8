"""An HTTP client for the console API tests: every answer is checked against the server's own
OpenAPI document (status documented, body matching its schema)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema


class OpenApiChecker:
    def __init__(self, document: dict) -> None:
        self.document = document
        self._routes = [
            (re.compile("^" + re.sub(r"{\w+}", "[^/]+", path) + "$"), item)
            for path, item in document["paths"].items()
        ]

    def check(self, response: httpx.Response) -> None:
        """The answer's status is documented for its operation and its body fits the schema."""
        request = response.request
        operation = self._operation(request.method.lower(), request.url.path)
        responses = operation["responses"]
        status = str(response.status_code)
        assert status in responses, f"{request.method} {request.url.path} answered {status}"
        content = responses[status].get("content")
        if content is None:
            assert response.content == b"", f"{status} should have no body"
            return
        media_type = next(iter(content))
        assert response.headers["content-type"].startswith(media_type)
        if media_type == "application/json":
            schema = {**content[media_type]["schema"], "components": self.document["components"]}
            jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)

    def _operation(self, method: str, path: str) -> dict:
        for pattern, item in self._routes:
            if pattern.match(path) and method in item:
                return item[method]
        raise AssertionError(f"{method.upper()} {path} is not in the OpenAPI document")


class ConsoleClient:
    """A person's view of the console API; ``login`` keeps the tokens it gets."""

    def __init__(self, base_url: str, checker: OpenApiChecker, **httpx_options: Any) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30, **httpx_options)
        self.checker = checker
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def login(self, username: str, password: str) -> httpx.Response:
        response = self.call(
            "POST", "/api/v1/auth/login", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self._keep(response.json())
        return response

    def refresh(self, token: str | None = None) -> httpx.Response:
        body = {"refresh_token": token or self.refresh_token}
        response = self.call("POST", "/api/v1/auth/refresh", json=body)
        if response.status_code == 200:
            self._keep(response.json())
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.access_token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.access_token}"
        response = self.http.request(method, path, headers=headers, **kwargs)
        self.checker.check(response)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def _keep(self, signed_in: dict) -> None:
        self.access_token = signed_in["access_token"]
        self.refresh_token = signed_in["refresh_token"]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail if it still does not after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)
