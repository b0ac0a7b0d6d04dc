"""Event bus: streams between ingest, detection, alert pipeline, agents and WebSockets."""
