"""AuroraSOC config."""
