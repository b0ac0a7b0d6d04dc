"""sigma."""
