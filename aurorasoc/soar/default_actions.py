"""The default action registry: the built-in actions and every ``aurorasoc.actions`` entry point
(each a ``register(registry)`` callable). AuroraSOC's own CPS actions come in that way too
(``aurorasoc.cps.actions``, declared in pyproject.toml): ``cps`` sits above ``soar``."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from aurorasoc.soar.actions import ActionRegistry
from aurorasoc.soar.builtin_actions import register_builtins

ENTRY_POINT_GROUP = "aurorasoc.actions"


@cache
def default_registry() -> ActionRegistry:
    """The built-in actions plus any registered through ``aurorasoc.actions`` entry points."""
    registry = ActionRegistry()
    register_builtins(registry)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()(registry)
    return registry
