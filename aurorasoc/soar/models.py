"""SOAR tables (spec §15): playbooks, their executions, human approvals, connector actions, automation rules.

``alert_id``/``case_id`` name their tables by name only (both capabilities sit below ``soar``);
``core.models`` re-exports these models.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime


class PlaybookModel(_Mutable, Base):
    """A validated SOAR playbook (spec §15.1); ``definition`` is the normalised JSON form."""

    __tablename__ = "playbooks"

    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    severity_filter: Mapped[str] = mapped_column(String(32), default="medium", nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    mitre_techniques: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    source_yaml: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64))


class PlaybookExecutionModel(_Mutable, Base):
    """One run of a playbook, persisted after every step (spec §15.3)."""

    __tablename__ = "playbook_executions"
    __table_args__ = (Index("ix_playbook_executions_status_created", "status", "created_at"),)

    playbook_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playbooks.id", ondelete="SET NULL")
    )
    playbook_name: Mapped[str] = mapped_column(String(128), nullable=False)
    playbook_version: Mapped[int] = mapped_column(Integer, nullable=False)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("alerts.id", ondelete="SET NULL"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(32), default="manual", nullable=False)
    triggered_by: Mapped[str | None] = mapped_column(String(128))
    preview: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="pending", nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HumanApprovalModel(_Mutable, Base):
    """A human decision gate (spec §15.4): pending → approved / rejected / expired."""

    __tablename__ = "human_approvals"
    __table_args__ = (Index("ix_human_approvals_status_created", "status", "created_at"),)

    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="SET NULL"))
    execution_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playbook_executions.id", ondelete="CASCADE")
    )
    step_name: Mapped[str | None] = mapped_column(String(128))
    investigation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action_type: Mapped[str] = mapped_column(String(64), nullable=False)
    action_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    target: Mapped[str | None] = mapped_column(String(512))
    justification: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(128), nullable=False)
    risk_level: Mapped[str] = mapped_column(String(32), default="low", nullable=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="pending", nullable=False)
    ttl_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class ConnectorActionModel(_Keyed, Base):
    """Every connector call, simulated or real (spec §15.6): the record of what was (or would be) done."""

    __tablename__ = "connector_actions"
    __table_args__ = (Index("ix_connector_actions_execution", "execution_id"),)

    connector: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[str | None] = mapped_column(String(512))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    simulated: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    execution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str | None] = mapped_column(String(128))


class AutomationRuleModel(_Mutable, Base):
    """Conditions over new alerts and what to do when they hold (spec §15.5)."""

    __tablename__ = "automation_rules"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=100, nullable=False)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    action_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    playbook_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playbooks.id", ondelete="SET NULL")
    )
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fire_count: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64))
