"""soar."""
