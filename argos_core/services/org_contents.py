"""What a tenant, company or branch holds, in words: the console and the services say it alike."""

from __future__ import annotations


def counted(n: int, one: str, many: str) -> str:
    """``1 agent``, ``10 agents``."""
    return f"{n:,} {one if n == 1 else many}"


def contents_phrase(companies: int, branches: int, agents: int) -> str:
    """``3 companies, 9 branches and 90 agents``; only what is there; ``nothing`` if empty."""
    parts = [
        counted(n, one, many)
        for n, one, many in (
            (companies, "company", "companies"),
            (branches, "branch", "branches"),
            (agents, "agent", "agents"),
        )
        if n
    ]
    if not parts:
        return "nothing"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
