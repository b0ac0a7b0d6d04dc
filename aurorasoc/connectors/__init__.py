"""Connectors: the only code that touches the outside world on behalf of playbooks (spec §15.6)."""
