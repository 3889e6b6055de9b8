"""The installed Argos version, for the About box."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def argos_version() -> str:
    try:
        return version("argos")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
