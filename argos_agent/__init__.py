"""The Argos reference agent and fleet simulator. Speaks only the HTTP protocol."""

__version__ = "1.0.0"
