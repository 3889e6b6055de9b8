"""Argos desktop console (PySide6). Reaches data only through ``argos_core`` services."""
