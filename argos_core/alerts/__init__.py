"""Alerts: inherited rules, evaluation, lifecycle, maintenance windows, notification outbox."""
