"""AuroraSOC core."""
