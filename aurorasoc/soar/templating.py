"""``{{ .path.to.field }}`` parameter templates (spec §15.3).

A value that is exactly one template keeps the native type (``{{ .alert.iocs }}`` → a list);
anything else is string interpolation. A path that does not resolve is an error at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aurorasoc.core.errors import InvalidInput

TEMPLATE = re.compile(r"\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_MISSING = object()


class TemplateError(InvalidInput):
    code = "template_error"


def resolve(path: str, context: dict[str, Any]) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = _MISSING
        if value is _MISSING:
            raise TemplateError(f"template path .{path} does not exist in the execution context")
    return value


def render(value: Any, context: dict[str, Any]) -> Any:
    """Render every template inside ``value`` (dicts and lists recursively)."""
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    if not isinstance(value, str):
        return value
    whole = TEMPLATE.fullmatch(value.strip())
    if whole:
        return resolve(whole.group(1), context)
    return TEMPLATE.sub(lambda m: _text(resolve(m.group(1), context)), value)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def template_roots(value: Any) -> Iterator[str]:
    """The first path segment of every template in ``value`` (for load-time validation)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from template_roots(item)
    elif isinstance(value, list):
        for item in value:
            yield from template_roots(item)
    elif isinstance(value, str):
        for match in TEMPLATE.finditer(value):
            yield match.group(1).split(".")[0]
