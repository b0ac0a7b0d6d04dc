"""Runtime modes (spec §6): what this process may read, write and act on right now.

The mode lives in memory (applied at start from ``AURORA_MODE`` and on every mode change) and
is persisted in ``system_settings.runtime_mode``. Every flag the API reports derives from the
mode and whether the database answers, so there is one source of truth.
"""

from __future__ import annotations

from typing import Literal

from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict
from aurorasoc.core.vocabulary import RuntimeMode, SystemMode

MODE_SETTING_KEY = "runtime_mode"
WriteClass = Literal["system", "pipeline", "operator", "external"]

DESCRIPTIONS = {
    RuntimeMode.DUMMY: "Dummy mode is active. Showcase behaviour; all changes are blocked.",
    RuntimeMode.DRY_RUN: "Dry run mode is active. Live reads; operator actions are previews.",
    RuntimeMode.REAL: "Real mode is active. Live operations and response actions are enabled.",
}

_current: RuntimeMode | None = None


def current_mode() -> RuntimeMode:
    return _current if _current is not None else RuntimeMode(get_settings().mode)


def set_mode(mode: RuntimeMode | str) -> RuntimeMode:
    global _current
    _current = RuntimeMode(mode)
    return _current


def reset_mode() -> None:
    """Forget the in-memory mode (tests, reloaded settings): fall back to ``AURORA_MODE``."""
    global _current
    _current = None


def describe(mode: RuntimeMode, database_available: bool) -> SystemMode:
    mutations = mode is RuntimeMode.REAL
    if database_available:
        source: Literal["database", "showcase", "unavailable"] = "database"
    elif mode is RuntimeMode.DUMMY:
        source = "showcase"
    else:
        source = "unavailable"
    return SystemMode(
        mode=mode,
        description=DESCRIPTIONS[mode],
        is_read_only=not mutations,
        is_mutations_allowed=mutations,
        is_external_actions_allowed=mutations,
        is_database_available=database_available,
        showcase_reads_allowed=mode is RuntimeMode.DUMMY,
        uses_showcase_data=mode is RuntimeMode.DUMMY and not database_available,
        read_data_source=source,
    )


def write_allowed(write_class: WriteClass, mode: RuntimeMode | None = None) -> bool:
    mode = mode or current_mode()
    if write_class == "system":
        return True
    if write_class == "pipeline":
        return mode is not RuntimeMode.DUMMY
    return mode is RuntimeMode.REAL


def assert_write_allowed(write_class: WriteClass) -> None:
    """Raise 409 ``mode_blocks_mutation`` when the current mode forbids this class of write."""
    mode = current_mode()
    if not write_allowed(write_class, mode):
        raise Conflict(
            f"{mode.value} mode blocks {write_class} changes",
            code="mode_blocks_mutation",
            mode=mode.value,
        )


def assert_external_allowed() -> None:
    """Services call this before any connector, device command or outbound share."""
    assert_write_allowed("external")
