"""The detail pane: an org node's summary and agents, or an agent's inventory and charts."""
