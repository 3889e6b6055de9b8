"""Time-series charts for agent telemetry (pyqtgraph): ``TelemetryChart`` and its data."""
