"""The console's log: a rotating file in the user's data directory that messages can name.

Unexpected failures (anything that is not a domain refusal with its own sentence) are
written here with their traceback, so "something went wrong" can say where to look.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

FILE_NAME = "argos-console.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_path: Path | None = None


def start_log_file(directory: Path) -> Path:
    """Log to ``directory/argos-console.log`` (rotated at 1 MB, 3 kept); uncaught exceptions
    of the GUI thread go there too. Returns the file's path."""
    global _path
    path = directory / FILE_NAME
    handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    previous = sys.excepthook

    def log_uncaught(kind, value, traceback) -> None:
        logging.getLogger("argos_desktop").error(
            "Uncaught exception", exc_info=(kind, value, traceback)
        )
        previous(kind, value, traceback)

    sys.excepthook = log_uncaught
    _path = path
    return path


def log_file_path() -> Path | None:
    """Where the log is written, or None when this process keeps none (e.g. in tests)."""
    return _path
