"""One sentence for people from any exception a service call raised."""

from __future__ import annotations

from argos_core.errors import ArgosError
from argos_desktop.log_file import log_file_path


def user_message(exc: BaseException) -> str:
    if isinstance(exc, ArgosError):
        return str(exc)
    name = exc.__class__.__name__
    where = log_file_path()
    if where is None:
        return f"Something went wrong ({name}: {exc})."
    return f"Something went wrong ({name}); the details are in {where}."
