"""Real host metrics and inventory from psutil.

The network counters add up the host's real interfaces (physical ones, Wi-Fi, bonds, VLANs,
VPN tunnels). They leave out loopback, whose traffic never leaves the host, and the plumbing
of containers and virtual machines, whose traffic is either local or also crosses a real
interface (counting it would count it twice).
"""

from __future__ import annotations

import ipaddress
import os
import platform
import re
import socket
import time
from typing import Any

import psutil

from argos_agent import __version__

MAX_IPS = 64
# Loopback (Linux lo, BSD/macOS lo0, Windows "Loopback Pseudo-Interface 1") and virtual
# plumbing: Docker/Podman bridges and veth pairs, bridges made by Docker, libvirt and LXC/LXD,
# libvirt/KVM taps, Kubernetes CNI interfaces (Calico, Flannel, Weave, Cilium, kube-ipvs) and
# the ifb devices of traffic shaping (which mirror a real interface's traffic).
NOT_COUNTED = re.compile(
    r"lo\d*|.*loopback.*|docker.*|veth.*|br-.*|virbr.*|vnet\d+.*|podman.*|cni.*|cali.*"
    r"|flannel.*|weave.*|cilium.*|kube-ipvs.*|lxcbr.*|lxdbr.*|ifb\d+",
    re.IGNORECASE,
)


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
        rx, tx = network_totals(psutil.net_io_counters(pernic=True))
        sample: dict[str, Any] = {
            "ts": int(now),
            "cpu_percent": _percent(psutil.cpu_percent(interval=None)),
            "mem_percent": _percent(psutil.virtual_memory().percent),
            "disk_percent": _percent(psutil.disk_usage(self._disk_path).percent),
            "net_rx_bytes": rx,
            "net_tx_bytes": tx,
            "uptime_s": max(0, int(time.time() - self._boot_time)),
        }
        if hasattr(os, "getloadavg"):
            sample["load_1m"] = round(max(0.0, os.getloadavg()[0]), 2)
        return {k: v for k, v in sample.items() if v is not None}


def is_counted(interface: str) -> bool:
    """Whether an interface's traffic is part of the host's network counters."""
    return NOT_COUNTED.fullmatch(interface) is None


def network_totals(per_interface: dict[str, Any]) -> tuple[int | None, int | None]:
    """Bytes received and sent over the counted interfaces (None, None if there is none)."""
    counted = [c for name, c in per_interface.items() if is_counted(name)]
    if not counted:
        return None, None
    return sum(int(c.bytes_recv) for c in counted), sum(int(c.bytes_sent) for c in counted)


def _percent(value: float) -> float:
    return round(min(100.0, max(0.0, float(value))), 2)
