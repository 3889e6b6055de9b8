"""Icons and style sheets shipped inside the package, so pip wheels, editable installs and
PyInstaller bundles all find them the same way (``importlib.resources``)."""

from __future__ import annotations

from importlib import resources


def read_text(relative: str) -> str:
    return resources.files(__name__).joinpath(relative).read_text(encoding="utf-8")


def read_bytes(relative: str) -> bytes:
    return resources.files(__name__).joinpath(relative).read_bytes()
