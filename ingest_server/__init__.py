"""Argos ingest server: Tornado handlers, group-commit writer, backpressure and metrics."""
