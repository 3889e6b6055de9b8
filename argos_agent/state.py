"""The agent's state file: its machine id and its token, kept between runs (mode 0600)."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


@dataclass
class AgentState:
    machine_id: str
    server: str = ""
    branch_org_id: str = ""
    agent_id: str = ""
    token: str = ""


def default_state_path() -> Path:
    return Path(platformdirs.user_state_dir("argos-agent", appauthor=False)) / "state.json"


def load_state(path: Path) -> AgentState:
    try:
        data = json.loads(path.read_text())
        state = AgentState(**{k: str(data.get(k, "")) for k in AgentState.__dataclass_fields__})
    except (OSError, ValueError, TypeError, AttributeError):
        return AgentState(machine_id=_machine_id())
    state.machine_id = state.machine_id or _machine_id()
    return state


def save_state(path: Path, state: AgentState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(state), handle)
    os.replace(tmp, path)


def _machine_id() -> str:
    for name in MACHINE_ID_FILES:
        try:
            value = Path(name).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return uuid.uuid4().hex
