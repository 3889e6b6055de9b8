"""Real host metrics and inventory from psutil."""

from __future__ import annotations

import ipaddress
import os
import platform
import socket
import time
from typing import Any

import psutil

from argos_agent import __version__

MAX_IPS = 64


def inventory(machine_id: str) -> dict[str, Any]:
    return {
        "hostname": socket.gethostname()[:255] or "unknown",
        "machine_id": machine_id,
        "os": f"{platform.system()} {platform.release()}".strip(),
        "agent_version": __version__,
        "ip_addresses": ip_addresses(),
        "cpu_count": psutil.cpu_count() or 1,
        "memory_total_bytes": psutil.virtual_memory().total,
        "boot_time": int(psutil.boot_time()),
    }


def ip_addresses() -> list[str]:
    found: list[str] = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            text = address.address.split("%")[0]
            try:
                if ipaddress.ip_address(text).is_loopback:
                    continue
            except ValueError:
                continue
            if text not in found:
                found.append(text)
    return found[:MAX_IPS]


class HostSampler:
    """Takes one sample per call; CPU percent is measured since the previous call."""

    def __init__(self, disk_path: str = "/") -> None:
        self._disk_path = disk_path
        self._boot_time = psutil.boot_time()
        psutil.cpu_percent(interval=None)

    def __call__(self, now: float) -> dict[str, Any]:
        net = psutil.net_io_counters()
        sample: dict[str, Any] = {
            "ts": int(now),
            "cpu_percent": _percent(psutil.cpu_percent(interval=None)),
            "mem_percent": _percent(psutil.virtual_memory().percent),
            "disk_percent": _percent(psutil.disk_usage(self._disk_path).percent),
            "net_rx_bytes": int(net.bytes_recv) if net else None,
            "net_tx_bytes": int(net.bytes_sent) if net else None,
            "uptime_s": max(0, int(time.time() - self._boot_time)),
        }
        if hasattr(os, "getloadavg"):
            sample["load_1m"] = round(max(0.0, os.getloadavg()[0]), 2)
        return {k: v for k, v in sample.items() if v is not None}


def _percent(value: float) -> float:
    return round(min(100.0, max(0.0, float(value))), 2)
