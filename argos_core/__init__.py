"""Argos core: what the ingest server, the console and the admin CLI share."""
