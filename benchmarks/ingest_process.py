"""``argos-ingest`` as a child process of a benchmark, so its CPU is not the load's: started
on a free port, waited for until healthy, its CPU read, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import psutil
from paced_load import LoadResult, run_load
from raw_http import read_response

SECRET = "benchmark-secret-key-0123456789-abcdefghijkl"


class IngestProcess:
    def __init__(
        self,
        db_url: str,
        processes: int,
        flush_ms: float,
        extra_args: tuple[str, ...] = (),
        stderr=None,
    ) -> None:
        """``stderr``: a file for the server's log (default: this process's stderr)."""
        env = {**os.environ, "ARGOS_SECRET_KEY": SECRET}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ingest_server.main",
                "--database-url",
                db_url,
                "--port",
                "0",
                "--processes",
                str(processes),
                "--agent-rate",
                "0",
                "--flush-delay-ms",
                str(flush_ms),
                "--log-level",
                "WARNING",
                *extra_args,
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"the ingest server did not start: {line!r}")
        self.port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        _wait_healthy(self.port)

    def cpu_seconds(self) -> float:
        """CPU used so far by the server and its worker processes."""
        root = psutil.Process(self.proc.pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def measure(self, plan: dict) -> LoadResult:
        """``run_load`` with the server's CPU over the run."""
        before = self.cpu_seconds()
        result = run_load(self.port, plan)
        result.server_cpu_s = self.cpu_seconds() - before
        return result

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def _wait_healthy(port: int) -> None:
    async def probe() -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            response = await read_response(reader)
            writer.close()
            return response.status == 200
        except OSError:
            return False

    for _ in range(200):
        if asyncio.run(probe()):
            return
        time.sleep(0.05)
    raise SystemExit("the ingest server never became healthy")
