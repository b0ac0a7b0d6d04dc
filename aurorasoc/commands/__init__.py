"""Sub-commands of the ``aurorasoc`` CLI, one module per group."""
