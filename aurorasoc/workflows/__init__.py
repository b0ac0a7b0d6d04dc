"""Multi-agent workflows (spec §16.5)."""
