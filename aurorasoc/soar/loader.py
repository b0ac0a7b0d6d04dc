"""Reading playbook YAML files: single files, directories, and the bundled showcase set (§15.7)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aurorasoc.core.vocabulary import PlaybookDefinition
from aurorasoc.soar.actions import ActionRegistry
from aurorasoc.soar.playbook import PlaybookValidationError, parse_playbook

SHOWCASE_DIR = Path(__file__).resolve().parent.parent / "data" / "playbooks"
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedPlaybook:
    path: Path
    definition: PlaybookDefinition
    source: str


@dataclass(frozen=True)
class LoadError:
    path: Path
    error: PlaybookValidationError


def playbook_files(paths: Iterable[Path]) -> Iterator[Path]:
    """YAML files under ``paths`` (directories searched recursively), in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        else:
            yield path


def load_playbooks(
    paths: Iterable[Path], registry: ActionRegistry | None = None
) -> tuple[list[LoadedPlaybook], list[LoadError]]:
    loaded, errors = [], []
    for path in playbook_files(paths):
        text = path.read_text(encoding="utf-8")
        try:
            loaded.append(LoadedPlaybook(path, parse_playbook(text, registry), text))
        except PlaybookValidationError as exc:
            errors.append(LoadError(path, exc))
    return loaded, errors


@cache
def showcase_playbooks() -> tuple[LoadedPlaybook, ...]:
    """The six bundled playbooks (parsed once per process); a test asserts they are valid."""
    loaded, errors = load_playbooks([SHOWCASE_DIR])
    if errors:
        raise errors[0].error
    return tuple(loaded)
