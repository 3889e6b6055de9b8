"""A demo fleet to benchmark on: an already seeded database, or a scratch one seeded now."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scratch import create_database, drop_database

from argos_core.db import make_engine
from argos_core.demo import seed_demo
from argos_core.migrate import upgrade


def demo_fleet(
    database_url: str | None, base_url: str, prefix: str, *, keep: bool = False, **seed: float
) -> tuple[str, Callable[[], None], str]:
    """The URL to benchmark, a clean-up function and a line saying what was done.

    ``database_url`` is used as it is; otherwise a scratch database on ``base_url`` is
    seeded with ``seed_demo(**seed)`` and dropped by the clean-up unless ``keep``.
    """
    if database_url:
        return database_url, lambda: None, "reused"
    workdir = Path(tempfile.mkdtemp(prefix="argos-bench-"))
    url = create_database(base_url, workdir, prefix=prefix)

    def drop() -> None:
        if not keep:
            drop_database(url)
            shutil.rmtree(workdir, ignore_errors=True)

    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        summary = seed_demo(engine, **seed)
        seeded = time.perf_counter() - started
    except BaseException:
        engine.dispose()
        drop()
        raise
    engine.dispose()
    note = f"seeded in {seeded:.1f} s ({summary.agents:,} agents, {summary.samples:,} samples)"
    if keep:
        note += f"; kept at {url}"
    return url, drop, note
