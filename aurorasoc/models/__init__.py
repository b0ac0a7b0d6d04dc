"""AuroraSOC models."""
