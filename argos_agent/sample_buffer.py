"""Samples waiting to be sent: in memory, and optionally in a journal file that survives restarts.

The journal is an append-only JSON-lines file. ``{"n": 7, "s": {...}}`` adds sample number 7;
``{"done": 7}`` says that every sample up to number 7 has left the buffer (sent, rejected or
dropped). Each line is flushed and fsynced before the call returns, so a sample the agent
collected survives a crash or a restart, and a sample the server acknowledged is not sent
again. A torn last line (a crash mid-write) is ignored. When the agent starts, and whenever
most of the journal's lines are dead, it is rewritten compactly: a temporary file, fsync, then
an atomic rename over the old one.

The buffer is bounded twice: by the number of samples (the oldest is dropped first to make
room) and by age (samples older than ``max_age_s`` are dropped). Callers count and report
what was dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections import deque
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger(__name__)

Sample = dict[str, Any]
MAX_SAMPLES = 10_000
MAX_AGE_S = 7 * 86400
COMPACT_SLACK_LINES = 200


class SampleBuffer:
    def __init__(
        self,
        path: Path | None = None,
        *,
        max_samples: int = MAX_SAMPLES,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        if max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        self.path = path
        self.max_samples = max_samples
        self.max_age_s = max_age_s
        self._items: deque[tuple[int, Sample]] = deque()
        self._next_number = 1
        self._journal: TextIO | None = None
        self._journal_lines = 0
        if path is not None:
            self._items.extend(read_journal(path))
            if self._items:
                self._next_number = self._items[-1][0] + 1
            while len(self._items) > max_samples:
                self._items.popleft()
            self._compact()

    def __len__(self) -> int:
        return len(self._items)

    def append(self, sample: Sample) -> int:
        """Add a sample; return how many of the oldest were dropped to make room."""
        dropped = max(0, len(self._items) + 1 - self.max_samples)
        if dropped:
            self._forget(dropped)
        number = self._next_number
        self._next_number += 1
        self._items.append((number, sample))
        self._write({"n": number, "s": sample})
        return dropped

    def oldest(self, count: int) -> list[Sample]:
        return [self._items[i][1] for i in range(min(count, len(self._items)))]

    def forget(self, count: int) -> None:
        """The oldest ``count`` samples have left (sent or rejected)."""
        self._forget(min(count, len(self._items)))

    def expire(self, now: float) -> int:
        """Drop samples older than ``max_age_s``; return how many."""
        cutoff = now - self.max_age_s
        old = 0
        for _, sample in self._items:
            if not isinstance(sample.get("ts"), int | float) or sample["ts"] >= cutoff:
                break
            old += 1
        if old:
            self._forget(old)
        return old

    def close(self) -> None:
        journal, self._journal = self._journal, None
        if journal is not None:
            with contextlib.suppress(OSError):
                journal.close()

    def _forget(self, count: int) -> None:
        if count <= 0:
            return
        for _ in range(count - 1):
            self._items.popleft()
        number, _ = self._items.popleft()
        self._write({"done": number})
        if (
            self._journal is not None
            and self._journal_lines > 2 * len(self._items) + COMPACT_SLACK_LINES
        ):
            self._compact()

    def _write(self, record: dict[str, Any]) -> None:
        if self._journal is None:
            return
        try:
            self._journal.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._journal.flush()
            os.fsync(self._journal.fileno())
        except OSError as exc:
            self._give_up_the_journal(exc)
            return
        self._journal_lines += 1

    def _compact(self) -> None:
        """Rewrite the journal with only the waiting samples: temp file, fsync, rename."""
        assert self.path is not None
        self.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                for number, sample in self._items:
                    handle.write(json.dumps({"n": number, "s": sample}, separators=(",", ":")))
                    handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            _fsync_directory(self.path.parent)
            self._journal = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        except OSError as exc:
            self._give_up_the_journal(exc)
            return
        self._journal_lines = len(self._items)

    def _give_up_the_journal(self, exc: OSError) -> None:
        log.error(
            "cannot write the sample buffer %s (%s); samples are kept in memory only",
            self.path,
            exc,
        )
        self.close()
        self.path = None


def read_journal(path: Path) -> list[tuple[int, Sample]]:
    """The samples still waiting in a journal, oldest first, with their numbers."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.error("cannot read the sample buffer %s (%s); starting empty", path, exc)
        return []
    waiting: dict[int, Sample] = {}
    done = 0
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if not isinstance(record, dict):
            continue
        number, sample = record.get("n"), record.get("s")
        if type(number) is int and isinstance(sample, dict):
            waiting[number] = sample
        elif type(record.get("done")) is int:
            done = max(done, record["done"])
    return [(n, waiting[n]) for n in sorted(waiting) if n > done]


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable (where the platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
