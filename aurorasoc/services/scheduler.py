"""Contract path (spec §1.1 C9): the scheduler lives in ``aurorasoc.workers.scheduler``."""

from aurorasoc.workers.scheduler import BackgroundScheduler as BackgroundScheduler

__all__ = ["BackgroundScheduler"]
