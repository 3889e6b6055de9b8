"""The ``argos --demo`` fleet: seeding (``seed``), its telemetry history (``history``), its
alert rules and maintenance windows (``alert_rules``), the demo database's life cycle
(``database``) and the seeded agents' heartbeat (``heartbeat``)."""

from argos_core.demo.database import DemoDatabase, demo_database_url, prepare_demo
from argos_core.demo.heartbeat import DemoHeartbeat
from argos_core.demo.seed import DEMO_PASSWORD, DEMO_SUPERADMIN, seed_demo

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_SUPERADMIN",
    "DemoDatabase",
    "DemoHeartbeat",
    "demo_database_url",
    "prepare_demo",
    "seed_demo",
]
