"""AuroraSOC services."""
