"""Token buckets that hold in total across worker processes: each key (an agent, a source
address) may take ``rate`` tokens a second, ``burst`` at once, however many processes of
``argos-ingest --processes N`` its requests land on.

The buckets live in a table in shared memory: a memory file mapped by the process that
creates the limiter, and by every worker forked after (``argos-ingest`` creates its limiters
before it forks). Each update runs under an ``fcntl`` lock on that file, which the kernel
drops should a worker die holding it. Keys are hashed into open-addressed slots with short
probes. A slot whose bucket has filled up again (unused for ``burst / rate`` seconds) is as
good as empty and is taken over, so the table holds only keys active within that time; should
every probed slot be busy, the stalest is reset (erring on the side of letting a request in).
"""

from __future__ import annotations

import fcntl
import math
import mmap
import os
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

# key + 1 (0: empty), tokens, last update (monotonic seconds: one clock for the whole host),
# and 1.0 while the bucket has run dry since it was last full (a burst going on), else 0.0.
SLOT = struct.Struct("=qddd")
PROBES = 16
KEY_MASK = (1 << 62) - 1  # stored keys are 1 .. 2**62: 0 marks an empty slot
GOLDEN = 0x9E3779B97F4A7C15
DEFAULT_SLOTS = 1 << 18  # 8 MiB; holds the agents active within burst / rate seconds


@dataclass(frozen=True)
class Taken:
    retry_after: int  # 0: taken; else whole seconds until a token is there
    burst_began: bool = False  # this take left the bucket dry, the first time since full


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        slots: int = DEFAULT_SLOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots <= 0 or slots & (slots - 1):
            raise ValueError("slots must be a power of two")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._mask = slots - 1
        self._fd = _memory_file(slots * SLOT.size)
        self._map = mmap.mmap(self._fd, slots * SLOT.size)

    @property
    def burst(self) -> float:
        return self._burst

    def retry_after(self, key: int) -> int:
        """Take one token for ``key`` (a non-negative integer below 2**62: an agent id, a
        hash); 0 if allowed, else whole seconds to wait."""
        return self.take(key).retry_after

    def take(self, key: int) -> Taken:
        return self._update(key, take=True)

    def waiting(self, key: int) -> int:
        """Whole seconds until ``key`` may take a token (0: now); takes nothing."""
        return self._update(key, take=False).retry_after

    def _update(self, key: int, *, take: bool) -> Taken:
        if self._rate <= 0:
            return Taken(0)
        now = self._clock()
        stored = (key & KEY_MASK) + 1
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            offset = self._slot(stored, now)
            found, tokens, last, dry = SLOT.unpack_from(self._map, offset)
            if found != stored:
                tokens, last, dry = self._burst, now, 0.0
            tokens = min(self._burst, tokens + max(0.0, now - last) * self._rate)
            if tokens >= self._burst:
                dry = 0.0  # full again: whatever burst there was is over
            burst_began = False
            if tokens >= 1:
                if take:
                    tokens -= 1
                    burst_began = tokens < 1 and not dry
                    dry = 1.0 if tokens < 1 else dry
                wait = 0
            else:
                wait = max(1, math.ceil((1 - tokens) / self._rate))
            SLOT.pack_into(self._map, offset, stored, tokens, now, dry)
            return Taken(wait, burst_began)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def _slot(self, stored: int, now: float) -> int:
        """The offset of ``stored``'s slot: its own, else a free or idle one, else the
        stalest of the probed ones."""
        home = (stored * GOLDEN) & self._mask
        free = stalest = -1
        oldest = math.inf
        full_after = self._burst / self._rate
        for probe in range(PROBES):
            offset = ((home + probe) & self._mask) * SLOT.size
            key, _tokens, last, _dry = SLOT.unpack_from(self._map, offset)
            if key == stored:
                return offset
            if free < 0 and (key == 0 or now - last >= full_after):
                free = offset
            if last < oldest:
                stalest, oldest = offset, last
        return free if free >= 0 else stalest


def _memory_file(size: int) -> int:
    """A file descriptor of ``size`` zero bytes in memory, inherited by forked workers."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("argos-rate-limit")
    else:  # macOS and other Unixes: an unlinked temporary file
        with tempfile.TemporaryFile() as handle:
            fd = os.dup(handle.fileno())
    os.ftruncate(fd, size)
    return fd
