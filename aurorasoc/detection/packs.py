"""Rule packs (issue #16): install a Sigma archive as a named, versioned pack, roll back, set its policy.

A pack's rules are rows of ``detection_rules`` with origin ``pack`` and ``pack`` = its name. Installing a
version compiles every file, stores the new version (with the YAML of its rules, for rollback), and
brings the pack's rows in line: new rules added, changed rules updated, rules gone from the archive
removed. A rule id already held by a bundled or custom rule is left alone and reported. Per-rule
``enabled`` survives updates. The policy (``statuses``, ``min_level``) decides which of the pack's
rules the engine runs; it is applied when the engine is built (``policy_allows``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.detection.models import DetectionRuleModel, RulePackModel
from aurorasoc.detection.packs_archive import RuleArchive
from aurorasoc.detection.sigma_documents import RuleDocument, split_rules

DEFAULT_PACK = "sigmahq"
DEFAULT_STATUSES = ("stable", "test")
DEFAULT_MIN_LEVEL = "low"
LEVELS = ("informational", "low", "medium", "high", "critical")
STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")
SIGMAHQ_ATTRIBUTION = (
    "Sigma rules by the SigmaHQ project and its contributors (https://github.com/SigmaHQ/sigma), "
    "under the Detection Rule License (DRL) 1.1"
)
MAX_REPORTED_FAILURES = 500


@dataclass
class PackReport:
    """What an install or rollback did; ``failures`` are (file or rule, reason)."""

    name: str
    version: int
    rules: int = 0
    compiled: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def compile_ratio(self) -> float:
        return self.compiled / self.rules if self.rules else 0.0


def compile_archive(archive: RuleArchive) -> tuple[dict[str, RuleDocument], list[tuple[str, str]]]:
    """Every rule of the archive by id, and the files or rules that failed with the reason."""
    docs: dict[str, RuleDocument] = {}
    failures: list[tuple[str, str]] = []
    for path, text in sorted(archive.files.items()):
        try:
            found = split_rules(text, "pack")
        except (ValueError, RecursionError) as exc:
            failures.append((path, str(exc)[:500]))
            continue
        for doc in found:
            if not doc.compiled.supported:
                failures.append((f"{path} ({doc.compiled.id})", doc.compiled.reason or "unsupported"))
            docs[doc.compiled.id] = doc
    return docs, failures


def policy_allows(status: str | None, level: str | None, statuses: list[str], min_level: str) -> bool:
    """Whether a pack rule with ``status``/``level`` runs under the pack's policy."""
    if (status or "experimental").lower() not in statuses:
        return False
    rank = LEVELS.index(level.lower()) if level and level.lower() in LEVELS else 0
    return rank >= LEVELS.index(min_level)


def check_policy(statuses: list[str], min_level: str) -> None:
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown or not statuses:
        raise InvalidInput(f"statuses must be a non-empty subset of {list(STATUSES)}; got {unknown or '[]'}")
    if min_level not in LEVELS:
        raise InvalidInput(f"min_level must be one of {list(LEVELS)}")


SYSTEM = Actor("system", "system")


class RulePackService:
    """Install, roll back, list and set the policy of packs. Each change is one unit of work: the
    rows, the audit entry naming ``actor`` (the platform itself unless told) and the commit."""

    def __init__(self, session: AsyncSession, *, actor: Actor = SYSTEM) -> None:
        self.session = session
        self.actor = actor

    async def versions(self, name: str) -> list[RulePackModel]:
        """The pack's stored versions, newest first."""
        rows = await self.session.scalars(
            select(RulePackModel).where(RulePackModel.name == name).order_by(RulePackModel.version.desc())
        )
        return list(rows.all())

    async def current(self) -> list[RulePackModel]:
        rows = await self.session.scalars(
            select(RulePackModel).where(RulePackModel.current.is_(True)).order_by(RulePackModel.name)
        )
        return list(rows.all())

    async def get(self, name: str) -> RulePackModel:
        found = [row for row in await self.versions(name) if row.current]
        if not found:
            raise NotFound(f"rule pack {name} is not installed")
        return found[0]

    async def install(self, archive: RuleArchive, *, name: str = DEFAULT_PACK) -> PackReport:
        docs, failures = await asyncio.to_thread(compile_archive, archive)
        if not docs:
            raise InvalidInput(f"no Sigma rule in {archive.source}", code="empty_pack")
        versions = await self.versions(name)
        previous = next((row for row in versions if row.current), None)
        report = PackReport(name, (versions[0].version + 1) if versions else 1, rules=len(docs))
        report.compiled = sum(doc.compiled.supported for doc in docs.values())
        report.failures = failures
        row = RulePackModel(
            name=name,
            version=report.version,
            current=True,
            source=archive.source,
            sha256=archive.sha256,
            license=archive.license,
            attribution=SIGMAHQ_ATTRIBUTION if name == DEFAULT_PACK else None,
            statuses=list(previous.statuses) if previous else list(DEFAULT_STATUSES),
            min_level=previous.min_level if previous else DEFAULT_MIN_LEVEL,
            rule_count=report.rules,
            compiled=report.compiled,
            failures=[list(f) for f in failures[:MAX_REPORTED_FAILURES]],
            rules={uid: doc.yaml for uid, doc in docs.items()},
            installed_by=self.actor.username,
        )
        for old in versions:
            old.current = False
            if previous is None or old.version != previous.version:
                old.rules = None  # only the current and the previous version can be restored
        self.session.add(row)
        await self._sync(name, docs, report)
        await self._audit("rule_pack.install", row, report)
        return report

    async def rollback(self, name: str = DEFAULT_PACK) -> PackReport:
        """Put the previous version back; the rolled-back version is deleted."""
        versions = await self.versions(name)
        if not versions or not versions[0].current:
            raise NotFound(f"rule pack {name} is not installed")
        if len(versions) < 2 or versions[1].rules is None:
            raise Conflict(f"rule pack {name} has no previous version to roll back to", code="no_previous")
        dropped, restored = versions[0], versions[1]
        texts = (restored.rules or {}).values()
        docs = {doc.compiled.id: doc for text in texts for doc in split_rules(text, "pack")}
        report = PackReport(name, restored.version, rules=restored.rule_count, compiled=restored.compiled)
        await self.session.delete(dropped)
        await self.session.flush()
        restored.current = True
        await self._sync(name, docs, report)
        await self._audit("rule_pack.rollback", restored, report, dropped_version=dropped.version)
        return report

    async def set_policy(self, name: str, *, statuses: list[str], min_level: str) -> RulePackModel:
        check_policy(statuses, min_level)
        row = await self.get(name)
        before = {"statuses": row.statuses, "min_level": row.min_level}
        row.statuses, row.min_level = list(statuses), min_level
        await self.session.flush()
        details = {"before": before, "after": {"statuses": statuses, "min_level": min_level}}
        await self._record("rule_pack.policy", name, details)
        return row

    async def _sync(self, name: str, docs: dict[str, RuleDocument], report: PackReport) -> None:
        existing = {
            row.rule_uid: row
            for row in (
                await self.session.scalars(
                    select(DetectionRuleModel).where(DetectionRuleModel.rule_uid.in_(list(docs)))
                )
            ).all()
        }
        for uid, doc in docs.items():
            row = existing.get(uid)
            if row is None:
                self.session.add(
                    DetectionRuleModel(
                        **doc.columns(),
                        origin="pack",
                        pack=name,
                        enabled=True,
                        created_by=self.actor.username,
                    )
                )
                report.added += 1
            elif row.origin != "pack" or row.pack != name:
                report.skipped.append((uid, f"a {row.origin} rule already has this id"))
            elif row.yaml != doc.yaml:
                for column, value in doc.columns().items():
                    setattr(row, column, value)
                report.updated += 1
        gone = await self.session.execute(
            delete(DetectionRuleModel)
            .where(DetectionRuleModel.pack == name, DetectionRuleModel.rule_uid.not_in(list(docs)))
            .execution_options(synchronize_session=False)
        )
        report.removed = int(getattr(gone, "rowcount", 0) or 0)
        await self.session.flush()

    async def _audit(self, action: str, row: RulePackModel, report: PackReport, **extra: Any) -> None:
        details = {
            "version": row.version,
            "source": row.source,
            "sha256": row.sha256,
            "rules": report.rules,
            "compiled": report.compiled,
            "added": report.added,
            "updated": report.updated,
            "removed": report.removed,
            **extra,
        }
        await self._record(action, row.name, details)

    async def _record(self, action: str, name: str, details: dict[str, Any]) -> None:
        """The audit entry of a change, then the commit that makes both durable together."""
        await self.actor.audit(self.session, action, ("rule_pack", name), details)
        await self.session.commit()


async def pack_policies(session: AsyncSession) -> dict[str, tuple[list[str], str]]:
    """Current pack name -> (statuses, min_level), for building the engine."""
    rows = await session.execute(
        select(RulePackModel.name, RulePackModel.statuses, RulePackModel.min_level).where(
            RulePackModel.current.is_(True)
        )
    )
    return {name: (list(statuses), min_level) for name, statuses, min_level in rows.all()}
