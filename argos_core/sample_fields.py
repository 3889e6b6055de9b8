"""The metrics of a telemetry sample, in the order of the ``telemetry`` table's columns after
``agent_id, ts`` — the one definition the API, the writer, the charts and the alerts share."""

SAMPLE_METRICS = (
    "cpu_percent",
    "mem_percent",
    "disk_percent",
    "net_rx_bytes",
    "net_tx_bytes",
    "load_1m",
    "uptime_s",
)
