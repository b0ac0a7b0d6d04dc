"""Rule packs (issue #16): a named, versioned set of Sigma rules from an archive, with its licence.

Each installed version is one row; ``current`` marks the one in force. A version keeps the YAML of its
rules (``rules``: rule id -> YAML) so the previous one can be put back by ``rollback``; only the current
and the previous version keep it. ``statuses``/``min_level`` are the pack's policy: which of its rules run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Mutable
from aurorasoc.core.types import JSONType


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
