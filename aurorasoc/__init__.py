"""AuroraSOC: AI-assisted Security Operations Center."""

__version__ = "0.1.0"
