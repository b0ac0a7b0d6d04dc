"""SOAR engine: playbook schema, action registry, guarded conditions, templating and the executor."""
