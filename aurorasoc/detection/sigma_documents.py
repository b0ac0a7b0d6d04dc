"""Split submitted Sigma YAML into the per-rule documents stored in ``detection_rules``.

A plain rule's row holds its own document, so it can be enabled, edited and compiled alone. A
correlation rule only compiles together with the rules it references, so its row holds the whole
text it was submitted in (correlation plus base rules); loading that row registers both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from aurorasoc.detection.sigma.rules import CompiledRule, compile_yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class RuleDocument:
    """One rule or correlation from a submitted text, ready to become one row."""

    compiled: CompiledRule
    kind: str  # "rule" | "correlation"
    yaml: str
    logsource: tuple[str | None, str | None, str | None]

    def columns(self) -> dict[str, Any]:
        """The ``DetectionRuleModel`` columns this document determines."""
        rule = self.compiled
        product, category, service = self.logsource
        return {
            "rule_uid": rule.id,
            "kind": self.kind,
            "title": rule.title[:500],
            "level": rule.level,
            "status": rule.status,
            "logsource_product": product,
            "logsource_category": category,
            "logsource_service": service,
            "tags": list(rule.tags),
            "yaml": self.yaml,
            "supported": rule.supported,
            "unsupported_reason": None if rule.supported else (rule.reason or "unsupported"),
        }


def _documents(text: str) -> list[dict[str, Any]]:
    try:
        docs = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {exc}") from exc
    if not docs or not all(isinstance(doc, dict) for doc in docs):
        raise ValueError("not a Sigma rule: expected one or more YAML mappings")
    return docs


def _kind(doc: dict[str, Any]) -> str:
    return "correlation" if "correlation" in doc else "rule"


def _logsource(doc: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """Taken from the document, so unsupported rules can still be filtered by product."""
    src = doc.get("logsource")
    if not isinstance(src, dict):
        return (None, None, None)

    def low(key: str) -> str | None:
        value = src.get(key)
        return str(value).lower()[:64] if value else None

    return (low("product"), low("category"), low("service"))


def split_rules(text: str, origin: str) -> list[RuleDocument]:
    """Every rule/correlation in ``text``; ValueError (pySigma's reason) when it is not Sigma."""
    docs = _documents(text)
    if len(docs) == 1:
        return [
            RuleDocument(rule, _kind(docs[0]), text, _logsource(docs[0]))
            for rule in compile_yaml(text, origin)
        ]
    if any("action" in doc for doc in docs):
        raise ValueError("Sigma 'action' collections are not supported; submit plain documents")
    together = {rule.id: rule for rule in compile_yaml(text, origin)}  # resolves correlation references
    found: list[RuleDocument] = []
    for doc in docs:
        if _kind(doc) == "correlation":
            compiled = together.get(str(doc.get("id") or ""))
            if compiled is None:
                raise ValueError("a correlation rule submitted with other documents needs an 'id'")
            found.append(RuleDocument(compiled, "correlation", text, (None, None, None)))
            continue
        segment = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        found.extend(RuleDocument(r, "rule", segment, _logsource(doc)) for r in compile_yaml(segment, origin))
    return found
