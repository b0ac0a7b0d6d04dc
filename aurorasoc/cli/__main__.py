"""``python -m aurorasoc.cli``: the same command as the ``aurorasoc`` script."""

from aurorasoc.cli import app

app()
