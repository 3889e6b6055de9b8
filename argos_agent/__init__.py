"""Argos reference agent and fleet simulator. Speaks only HTTP."""
