"""Tiered agent memory (spec §17): a sliding window, episodic cases and threat-intel vectors.

Tier 1 is an in-process deque and needs nothing; tiers 2 and 3 live in ``vector_embeddings`` and
are reached lazily, so constructing a memory and using its window never touches the database.
A failing tier 2/3 is logged and answers empty: agents keep working without long-term memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import IOCStatus
from aurorasoc.intel.extraction import classify_ioc
from aurorasoc.intel.models import IOCModel
from aurorasoc.intel.service import IOCService, effective_status
from aurorasoc.memory.embedder import Embedder, get_embedder
from aurorasoc.memory.vector_store import BruteForceStore, VectorHit

CASES = "aurora_cases"
THREAT_INTEL = "aurora_threat_intel"
SNAPSHOTS = "aurora_agent_snapshots"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemoryConfig:
    sliding_window: int = 20
    enable_episodic: bool = False
    enable_threat_intel: bool = False
    auto_persist_interval: int = 0
    top_k: int = 5
    agent_name: str = ""


DEFAULT_MEMORY = MemoryConfig()
ORCHESTRATOR_MEMORY = MemoryConfig(sliding_window=100, enable_episodic=True, auto_persist_interval=20)
ANALYST_MEMORY = MemoryConfig(sliding_window=30)
HUNTER_MEMORY = MemoryConfig(
    sliding_window=40, enable_episodic=True, enable_threat_intel=True, auto_persist_interval=15
)
RESPONDER_MEMORY = MemoryConfig(sliding_window=50, enable_episodic=True, auto_persist_interval=10)
NETWORK_MEMORY = MemoryConfig(sliding_window=30, enable_episodic=True, auto_persist_interval=20)
ENDPOINT_MEMORY = MemoryConfig(
    sliding_window=40, enable_episodic=True, enable_threat_intel=True, auto_persist_interval=15
)
INTEL_MEMORY = MemoryConfig(
    sliding_window=40, enable_episodic=True, enable_threat_intel=True, auto_persist_interval=15
)


class TieredAgentMemory:
    """One agent's memory; ``store``/``embedder`` default to the shared table and configured embedder."""

    def __init__(
        self, config: MemoryConfig, *, store: BruteForceStore | None = None, embedder: Embedder | None = None
    ) -> None:
        self._config = config
        self._window: deque[Any] = deque(maxlen=config.sliding_window)
        self._store = store
        self._embedder = embedder
        self._adds = 0
        self._pending: set[asyncio.Task[bool]] = set()

    # --- tier 1: sliding window -----------------------------------------------------------------

    def add(self, msg: Any) -> None:
        self._window.append(msg)
        self._adds += 1
        self._maybe_persist()

    @property
    def messages(self) -> list[Any]:
        return list(self._window)

    def clear(self) -> None:
        self._window.clear()

    def _maybe_persist(self) -> None:
        interval = self._config.auto_persist_interval
        if not (interval and self._config.enable_episodic and self._adds % interval == 0):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.persist_snapshot())
        self._pending.add(task)  # keep a reference: the loop only holds weak ones
        task.add_done_callback(self._pending.discard)

    # --- tiers 2 and 3 ----------------------------------------------------------------------------

    def _vectors(self) -> BruteForceStore:
        if self._store is None:
            self._store = BruteForceStore(self._embedder or get_embedder())
        return self._store

    async def recall_similar(self, query: str, top_k: int | None = None) -> list[VectorHit]:
        """Closed cases most like ``query``; ``[]`` when episodic memory is off or unavailable."""
        return await self._search(CASES, query, top_k) if self._config.enable_episodic else []

    async def search_threat_intel(self, query: str, top_k: int | None = None) -> list[VectorHit]:
        return await self._search(THREAT_INTEL, query, top_k) if self._config.enable_threat_intel else []

    async def _search(self, collection: str, query: str, top_k: int | None) -> list[VectorHit]:
        try:
            return await self._vectors().search(collection, query, top_k or self._config.top_k)
        except Exception:
            log.warning("memory search in %s failed", collection, exc_info=True)
            return []

    async def enrich_ioc(self, value: str, ioc_type: str | None = None) -> dict[str, Any]:
        """The local IOC record, a reputation from it, and similar threat-intel entries."""
        if not self._config.enable_threat_intel:
            return {}
        kind, canonical = _typed(value, ioc_type)
        try:
            async with self._vectors().sessions() as session:
                row = await IOCService(session).find((kind, canonical))
                record = _ioc_record(row) if row else None
        except Exception:
            log.warning("IOC lookup for %r failed", canonical, exc_info=True)
            return {}
        return {
            "value": canonical,
            "type": kind,
            "known": record is not None,
            "ioc": record,
            "similar": await self.search_threat_intel(canonical),
            "reputation": _reputation(record),
        }

    async def store_case(self, snapshot: Mapping[str, Any]) -> bool:
        """Remember a closed case in episodic memory (any instance may write; recall is per preset)."""
        try:
            source_id, text, payload = case_document(snapshot)
            await self._vectors().upsert(CASES, source_id, text, payload)
        except Exception:
            log.warning("storing case in episodic memory failed", exc_info=True)
            return False
        return True

    async def remember_intel(self, source_id: str, text: str, payload: dict[str, Any] | None = None) -> bool:
        """Add or replace one threat-intel entry (a report, campaign note or IOC description)."""
        return await self._write(THREAT_INTEL, source_id, text, payload)

    async def persist_snapshot(self) -> bool:
        """Write the current window to ``aurora_agent_snapshots`` (one row per agent, replaced)."""
        name = self._config.agent_name or "agent"
        texts = [message_text(m) for m in self._window]
        payload = {"agent": name, "messages": texts, "persisted_at": utcnow().isoformat()}
        return await self._write(SNAPSHOTS, name, "\n".join(texts), payload)

    async def _write(
        self, collection: str, source_id: str, text: str, payload: dict[str, Any] | None
    ) -> bool:
        try:
            await self._vectors().upsert(collection, source_id, text, payload)
        except Exception:
            log.warning("memory write to %s failed", collection, exc_info=True)
            return False
        return True


def create_tiered_memory(agent_name: str, config: MemoryConfig) -> TieredAgentMemory:
    """A memory for ``agent_name``; the preset itself is left untouched."""
    return TieredAgentMemory(dataclasses.replace(config, agent_name=agent_name))


def message_text(msg: Any) -> str:
    """``msg.text`` when it is a string, a chat dict's ``content``, else ``str(msg)``."""
    text = getattr(msg, "text", None)
    if isinstance(text, str):
        return text
    if isinstance(msg, Mapping) and isinstance(content := msg.get("content", msg.get("text")), str):
        return content
    return str(msg)


def case_document(snapshot: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(source id, embedded text, payload) of a closed case.

    Accepts the report snapshot of ``services.reports.build_snapshot`` (case fields under
    ``"case"``, typed ``iocs``/``techniques``/``assets``) or a flat dict with ``case_id``,
    ``summary``, ``techniques``, ``iocs``, ``devices`` and ``resolution``.
    """
    case = snapshot.get("case") or snapshot
    case_id = str(case.get("id") or snapshot.get("case_id") or "")
    if not case_id:
        raise ValueError("a case snapshot needs the case id")
    payload: dict[str, Any] = {
        "case_id": case_id,
        "title": case.get("title") or "",
        "severity": case.get("severity"),
        "summary": snapshot.get("summary") or case.get("description") or "",
        "techniques": _labels(snapshot.get("techniques") or case.get("mitre_techniques"), "id", "name"),
        "iocs": _labels(snapshot.get("iocs") or case.get("iocs"), "value"),
        "devices": _labels(
            snapshot.get("devices") or snapshot.get("assets") or case.get("affected_assets"), "name"
        ),
        "resolution": snapshot.get("resolution") or case.get("resolution_notes") or "",
        "closed_at": case.get("closed_at"),
    }
    lines = [payload["title"], payload["summary"], payload["resolution"]]
    lines += [" ".join(payload[k]) for k in ("techniques", "iocs", "devices")]
    return case_id, "\n".join(line for line in lines if line), payload


def _labels(items: Iterable[Any] | None, *keys: str) -> list[str]:
    """Strings as they are; dicts as their ``keys`` joined (e.g. technique id and name)."""
    labels = []
    for item in items or []:
        if isinstance(item, Mapping):
            item = " ".join(str(item[k]) for k in keys if item.get(k))
        if str(item).strip():
            labels.append(str(item).strip())
    return labels


def _typed(value: str, ioc_type: str | None) -> tuple[str, str]:
    if ioc_type:
        return ioc_type.strip().lower(), value.strip()
    typed = classify_ioc(value)
    return (typed[0].value, typed[1]) if typed else ("unknown", value.strip())


def _ioc_record(row: IOCModel) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "type": row.type,
        "value": row.value,
        "source": row.source,
        "confidence": row.confidence,
        "status": effective_status(row),
        "tags": list(row.tags or []),
        "tlp": row.tlp,
        "sightings": row.sightings,
        "description": row.description,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
    }


def _reputation(record: dict[str, Any] | None) -> str:
    """unknown (not in the store), benign (marked false positive), malicious or suspicious."""
    if record is None:
        return "unknown"
    if record["status"] == IOCStatus.FALSE_POSITIVE.value:
        return "benign"
    return "malicious" if record["confidence"] >= 0.7 else "suspicious"
