"""siem."""
