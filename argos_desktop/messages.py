"""One sentence for people from any exception a service call raised."""

from __future__ import annotations

from argos_core.errors import ArgosError


def user_message(exc: BaseException) -> str:
    if isinstance(exc, ArgosError):
        return str(exc)
    return f"Something went wrong ({exc.__class__.__name__}); see the log for details."
