"""Keep the garbage collector's full passes away from the user's clicks."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Move everything allocated so far out of the collector's reach.

    Qt, SQLAlchemy and the modules leave about 150,000 long-lived objects behind; every
    full collection walked all of them (up to 100 ms, a stall in the middle of expanding
    a node). Frozen, they are never scanned again; what the console allocates later is
    collected as usual.
    """
    gc.collect()
    gc.freeze()
