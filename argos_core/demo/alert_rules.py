"""The demo's alerting: rules on every tenant and maintenance windows, so that the problems
list, the tree's badges, the tray and the editors have something to show.

Added to a demo database that has no alert rules yet (a new one, or one seeded before the
demo had them); the demo's own Argos server then evaluates them like any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from argos_core.bootstrap import Services
from argos_core.models import AlertRule, Branch, Tenant, utcnow
from argos_core.scope import Principal

PATCHING = timedelta(hours=4)
NIGHTLY_BACKUP_S = 2 * 3600


def ensure_demo_alerts(services: Services, superadmin: str, now: datetime | None = None) -> bool:
    """Rules and maintenance windows for the demo fleet, unless it has rules; True if added."""
    with services.session_factory() as session:
        if session.scalar(select(func.count()).select_from(AlertRule)):
            return False
        tenants = list(session.scalars(select(Tenant.org_id).order_by(Tenant.id)))
        branches = list(session.scalars(select(Branch.org_id).order_by(Branch.id)))
    if not tenants or not branches:
        return False
    who = Principal(superadmin, "superadmin", source="argos --demo")
    alerts = services.alerts
    for tenant in tenants:
        alerts.create_rule(who, tenant, condition="offline", severity="warning")
        alerts.create_rule(
            who, tenant, metric="cpu_percent", comparison="above", threshold=90,
            recover_at=75, for_s=120, severity="critical",
        )  # fmt: skip
        alerts.create_rule(
            who, tenant, metric="disk_percent", comparison="above", threshold=85,
            recover_at=80, severity="warning",
        )  # fmt: skip
    now = (now or utcnow()).replace(second=0, microsecond=0)
    alerts.create_maintenance(
        who, branches[-1], now, int(PATCHING.total_seconds()), comment="OS patching (demo)"
    )
    alerts.create_maintenance(
        who, branches[0], now.replace(hour=2, minute=0), NIGHTLY_BACKUP_S, repeat="daily",
        comment="nightly backups (demo)",
    )  # fmt: skip
    return True
