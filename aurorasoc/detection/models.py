"""Detection rules (one row per Sigma rule, spec §13.3), rule packs (a named, versioned set of Sigma rules
from an archive) and rule exceptions (issue #16); ``core.models`` re-exports these models.

Each installed pack version is one row; ``current`` marks the one in force. A version keeps the YAML of its
rules (``rules``: rule id -> YAML) so the previous one can be put back by ``rollback``; only the current
and the previous version keep it. ``statuses``/``min_level`` are the pack's policy: which of its rules run.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime


class RulePackModel(_Mutable, Base):
    __tablename__ = "rule_packs"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_rule_packs_name_version"),)

    name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    current: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    license: Mapped[str | None] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    statuses: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    min_level: Mapped[str] = mapped_column(String(16), default="low", nullable=False)
    rule_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    compiled: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failures: Mapped[list[Any]] = mapped_column(JSONType, default=list, nullable=False)
    rules: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    installed_by: Mapped[str | None] = mapped_column(String(64))


class RuleExceptionModel(_Mutable, Base):
    """Tuning: a rule does not fire on events meeting ``conditions`` (field -> value), optionally per host."""

    __tablename__ = "rule_exceptions"

    rule_uid: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    host: Mapped[str | None] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_alert_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))


class RuleHitDayModel(Base):
    """Hits of one rule on one UTC day: the rule list's hits per day, noisiest and never-fired views."""

    __tablename__ = "rule_hit_days"

    rule_uid: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    hits: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)


class DetectionRuleModel(_Mutable, Base):
    __tablename__ = "detection_rules"

    rule_uid: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), default="rule", nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    level: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    logsource_product: Mapped[str | None] = mapped_column(String(64))
    logsource_category: Mapped[str | None] = mapped_column(String(64))
    logsource_service: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    yaml: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    origin: Mapped[str] = mapped_column(String(16), default="custom", nullable=False)
    supported: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    unsupported_reason: Mapped[str | None] = mapped_column(Text)
    hit_count: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    last_hit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    pack: Mapped[str | None] = mapped_column(String(64), index=True)  # rule_packs.name (origin "pack")
