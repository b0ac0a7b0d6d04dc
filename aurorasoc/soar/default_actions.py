"""The default action registry: the built-in actions, the CPS actions and any registered through
the ``aurorasoc.actions`` entry points (each entry point is a ``register(registry)`` callable)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from aurorasoc.soar.actions import ActionRegistry
from aurorasoc.soar.builtin_actions import register_builtins
from aurorasoc.soar.cps_actions import register_cps_actions

ENTRY_POINT_GROUP = "aurorasoc.actions"


@cache
def default_registry() -> ActionRegistry:
    """The built-in actions plus any registered through ``aurorasoc.actions`` entry points."""
    registry = ActionRegistry()
    register_builtins(registry)
    register_cps_actions(registry)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()(registry)
    return registry
