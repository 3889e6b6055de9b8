"""Argos desktop console (PySide6). Reaches data only through a ``ConsoleBackend``."""
