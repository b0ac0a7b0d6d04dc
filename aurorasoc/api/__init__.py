"""The REST/WebSocket API."""
