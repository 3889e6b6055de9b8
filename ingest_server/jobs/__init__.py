"""Background jobs of the Argos server; each runs once across processes and hosts by lease."""
