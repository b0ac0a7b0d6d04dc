"""Sigma rules stored in ``detection_rules`` (spec §13.3): import, CRUD, and the engine built from them.

Origins: ``bundled`` (the pack in ``aurorasoc/data/sigma``, imported at every start) and ``custom``
(``rules import``, ``AURORA_SIGMA_RULE_PATHS``, the API). A re-import of the same origin updates the
YAML and metadata of changed rules but keeps ``enabled`` and the hit counters; unchanged rules are not
touched, so ``updated_at`` (the detection worker's reload signal) moves only on real changes. A rule
of the other origin with the same id is left alone and reported as skipped. Bundled rules cannot be
deleted (they would come back at the next start): disable them instead. Editing a bundled rule's
YAML makes it ``custom``, so the next start does not overwrite the edit.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from aurorasoc.core.actor import Actor
from aurorasoc.core.config import Settings
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.detection.exceptions import active_exceptions, exceptions_version
from aurorasoc.detection.models import DetectionRuleModel, RulePackModel
from aurorasoc.detection.packs import pack_policies, policy_allows
from aurorasoc.detection.schemas import RuleDetail, RuleOut
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.detection.sigma_documents import RuleDocument, split_rules

log = logging.getLogger(__name__)
BUNDLED_RULES = Path(__file__).resolve().parent.parent / "data" / "sigma"
MAX_UID_CHARS = 128
PYSIGMA_INVALID = "invalid rule:"  # sigma_rules.compile_rule's prefix for pySigma rule errors
Row = DetectionRuleModel


@dataclass
class ImportReport:
    """What an import did; ``errors`` are files that are not Sigma, ``skipped`` other-origin ids."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    unsupported: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: ImportReport) -> ImportReport:
        return ImportReport(
            self.imported + other.imported,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.unsupported + other.unsupported,
            self.skipped + other.skipped,
            self.errors + other.errors,
        )


@dataclass(frozen=True)
class RuleFilters:
    enabled: bool | None = None
    level: str | None = None
    product: str | None = None
    kind: str | None = None
    tag: str | None = None
    q: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.enabled is not None:
            found.append(Row.enabled.is_(self.enabled))
        if self.level:
            found.append(Row.level == self.level.lower())
        if self.product:
            found.append(Row.logsource_product == self.product.lower())
        if self.kind:
            found.append(Row.kind == self.kind)
        if self.tag:  # tags is a JSON list; its text form quotes every element
            quoted = f'"{self.tag.lower()}"'
            found.append(func.lower(cast(Row.tags, String)).contains(quoted, autoescape=True))
        if self.q:
            text = self.q.lower()
            found.append(func.lower(Row.title).contains(text, autoescape=True) | (Row.rule_uid == self.q))
        return found


def parse_rules(text: str, origin: str) -> list[RuleDocument]:
    """The documents of ``text``; a text that is not Sigma is a 400 with pySigma's reason."""
    try:
        docs = split_rules(text, origin)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_rule") from None
    if not docs:
        raise InvalidInput("no Sigma rule in the YAML", code="invalid_rule")
    invalid = [d.compiled.reason for d in docs if (d.compiled.reason or "").startswith(PYSIGMA_INVALID)]
    if invalid:  # pySigma rejected the rule itself; other reasons are engine limits, stored unsupported
        raise InvalidInput(invalid[0] or "invalid rule", code="invalid_rule")
    return docs


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus ``*.yml``/``*.yaml`` found recursively under directories."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file()))
        else:
            found.append(path)
    return found


class DetectionRuleService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def import_paths(self, paths: Iterable[Path], *, origin: str, actor: str) -> ImportReport:
        """Upsert every rule under ``paths``; unreadable or non-Sigma files are reported, not fatal."""
        report = ImportReport()
        docs: dict[str, RuleDocument] = {}
        for path in rule_files(paths):
            try:
                found = split_rules(path.read_text(encoding="utf-8"), origin)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                report.errors.append((str(path), str(exc)))
                continue
            docs.update((doc.compiled.id, doc) for doc in found)
        await self._upsert(docs.values(), origin, actor, report)
        return report

    async def _upsert(
        self, docs: Iterable[RuleDocument], origin: str, actor: str, report: ImportReport
    ) -> None:
        existing = {row.rule_uid: row for row in (await self.session.scalars(select(Row))).all()}
        for doc in docs:
            uid = doc.compiled.id
            row = existing.get(uid)
            if len(uid) > MAX_UID_CHARS:
                report.errors.append((uid[:64] + "…", f"rule id longer than {MAX_UID_CHARS} characters"))
                continue
            report.unsupported += not doc.compiled.supported
            if row is None:
                self.session.add(Row(**doc.columns(), origin=origin, enabled=True, created_by=actor))
                report.imported += 1
            elif row.origin != origin:
                report.skipped.append((uid, f"a {row.origin} rule already has this id"))
            elif row.yaml == doc.yaml:
                report.unchanged += 1
            else:
                for name, value in doc.columns().items():
                    setattr(row, name, value)
                report.updated += 1
        await self.session.flush()

    async def list(self, filters: RuleFilters, *, skip: int, limit: int) -> tuple[Sequence[Row], int]:
        clauses = filters.clauses()
        total = await self.session.scalar(select(func.count()).select_from(Row).where(*clauses)) or 0
        rows = await self.session.scalars(
            select(Row).where(*clauses).order_by(Row.title, Row.rule_uid).offset(skip).limit(limit)
        )
        return rows.all(), total

    async def get(self, ident: str) -> Row:
        """By row id or by Sigma rule id (both are usually UUIDs)."""
        clause: ColumnElement[bool] = Row.rule_uid == ident
        with contextlib.suppress(ValueError):
            clause = clause | (Row.id == uuid.UUID(ident))
        row = await self.session.scalar(select(Row).where(clause).limit(1))
        if row is None:
            raise NotFound(f"detection rule {ident} does not exist")
        return row

    async def create(self, text: str, *, actor: str, enabled: bool = True) -> Sequence[Row]:
        """Store the custom rules of ``text``; 409 when one of their ids is already stored."""
        docs = parse_rules(text, "custom")
        uids = [doc.compiled.id for doc in docs]
        if len(set(uids)) != len(uids):
            raise InvalidInput("the YAML defines the same rule id twice", code="invalid_rule")
        if any(len(uid) > MAX_UID_CHARS for uid in uids):
            raise InvalidInput(f"rule ids are limited to {MAX_UID_CHARS} characters", code="invalid_rule")
        taken = (await self.session.scalars(select(Row.rule_uid).where(Row.rule_uid.in_(uids)))).all()
        if taken:
            raise Conflict(f"a rule with id {taken[0]} already exists", code="duplicate")
        rows = [Row(**doc.columns(), origin="custom", enabled=enabled, created_by=actor) for doc in docs]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def update(self, row: Row, *, enabled: bool | None = None, text: str | None = None) -> Row:
        """Toggle ``enabled`` and/or replace the YAML (which must keep the rule's id)."""
        if text is not None:
            match = [doc for doc in parse_rules(text, "custom") if doc.compiled.id == row.rule_uid]
            if not match:
                raise InvalidInput(f"the new YAML must keep the rule id {row.rule_uid}", code="invalid_rule")
            for name, value in match[0].columns().items():
                setattr(row, name, value)
            row.origin = "custom"
        if enabled is not None:
            row.enabled = enabled
        await self.session.flush()
        return row

    async def delete(self, row: Row) -> None:
        if row.origin == "bundled":
            raise Conflict(
                "bundled rules cannot be deleted (the next start would restore them); disable it instead",
                code="bundled_rule",
            )
        await self.session.delete(row)
        await self.session.flush()

    async def add(self, text: str, *, enabled: bool, actor: Actor) -> builtins.list[RuleDetail]:
        """Store custom rules, one audit row each, committed: the one way every caller adds rules.

        Rules the engine cannot evaluate are stored with ``supported=false`` and the reason.
        """
        items = [
            RuleDetail.model_validate(row)
            for row in await self.create(text, actor=actor.username, enabled=enabled)
        ]
        for item in items:
            await _audit(self.session, actor, "detection_rule.create", item, {"after": item.audit_snapshot()})
        await self.session.commit()
        return items

    async def change(self, ident: str, *, enabled: bool | None, text: str | None, actor: Actor) -> RuleDetail:
        """Toggle and/or replace a rule's YAML; audited with before/after, committed."""
        row = await self.get(ident)
        before = RuleOut.model_validate(row).audit_snapshot()
        updated = RuleDetail.model_validate(await self.update(row, enabled=enabled, text=text))
        details = {"before": before, "after": updated.audit_snapshot(), "yaml_replaced": text is not None}
        await _audit(self.session, actor, "detection_rule.update", updated, details)
        await self.session.commit()
        return updated

    async def remove(self, ident: str, *, actor: Actor) -> None:
        """Delete a custom rule (bundled rules: 409), audited with its last state, committed."""
        row = await self.get(ident)
        snapshot = RuleOut.model_validate(row)
        await self.delete(row)
        await _audit(
            self.session, actor, "detection_rule.delete", snapshot, {"before": snapshot.audit_snapshot()}
        )
        await self.session.commit()


async def _audit(
    session: AsyncSession, actor: Actor, action: str, rule: RuleOut, details: dict[str, Any]
) -> None:
    await actor.audit(session, action, ("detection_rule", str(rule.id)), details)


async def import_startup_rules(session: AsyncSession, settings: Settings) -> ImportReport:
    """At start: the bundled pack (``bundled``) and ``AURORA_SIGMA_RULE_PATHS`` (``custom``)."""
    service = DetectionRuleService(session)
    report = await service.import_paths([BUNDLED_RULES], origin="bundled", actor="system")
    extra = [Path(p.strip()) for p in settings.detection.sigma_rule_paths.split(",") if p.strip()]
    if extra:
        report = report.merge(await service.import_paths(extra, origin="custom", actor="system"))
    return report


async def load_engine(session: AsyncSession, *, bundled: bool = True, packs: bool = True) -> SigmaEngine:
    """An engine over the enabled, supported rules (rules before correlations, which reuse them).

    A pack's rules run only when its policy (statuses, minimum level) allows them. ``bundled`` and
    ``packs`` False leave out the bundled pack's rules and the installed packs' (``aurorasoc ingest
    --no-bundled`` / ``--no-packs``).
    """
    policies = await pack_policies(session)
    exceptions = await active_exceptions(session)
    chosen_origins = [] if bundled else [Row.origin != "bundled"]
    chosen_packs = [] if packs else [Row.pack.is_(None)]
    rows = (
        await session.execute(
            select(Row.rule_uid, Row.yaml, Row.origin, Row.pack, Row.status, Row.level)
            .where(Row.enabled.is_(True), Row.supported.is_(True), *chosen_origins, *chosen_packs)
            .order_by(Row.kind != "rule", Row.rule_uid)
        )
    ).all()
    chosen = [
        (uid, text, origin)
        for uid, text, origin, pack, status, level in rows
        if pack is None or (pack in policies and policy_allows(status, level, *policies[pack]))
    ]
    engine = await asyncio.to_thread(_build_engine, chosen)
    engine.add_exceptions(exceptions)
    return engine


def _build_engine(rows: list[tuple[Any, ...]]) -> SigmaEngine:
    engine = SigmaEngine()
    for uid, text, origin in rows:
        try:
            engine.add_yaml(text, origin=origin)
        except ValueError as exc:  # stored before a pySigma upgrade that rejects it
            log.warning("stored rule %s no longer parses: %s", uid, exc)
    return engine


async def rules_version(session: AsyncSession) -> tuple[int, datetime | None]:
    """Changes when a rule is added, edited, toggled or deleted, a pack's policy or an exception changes."""
    count, latest = (await session.execute(select(func.count(), func.max(Row.updated_at)))).one()
    packs = await session.scalar(select(func.max(RulePackModel.updated_at)))
    excepted, tuned = await exceptions_version(session)
    stamps = (t for t in (latest, packs, tuned) if t is not None)
    return int(count) + excepted, max(stamps, default=None)


async def record_hits(session: AsyncSession, hits: Mapping[str, int], at: datetime) -> None:
    """Add hit counts without moving ``updated_at`` (a hit is not a rule change to reload for)."""
    for uid, count in hits.items():
        await session.execute(
            update(Row)
            .where(Row.rule_uid == uid)
            .values(hit_count=Row.hit_count + count, last_hit_at=at, updated_at=Row.updated_at)
        )
