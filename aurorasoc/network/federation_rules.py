"""The federation mesh's rules (spec §20), free of I/O so they are tested on their own.

Message shapes (heartbeat, federated alert), link ids, link health from silence, latency and
which local alerts leave the site. ``services.federation`` does the NATS and database work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.vocabulary import AlertCreate, AssetType, Severity

HEALTH_SUBJECT_PREFIX = "aurora.federation.health"
HEALTH_SUBJECTS = f"{HEALTH_SUBJECT_PREFIX}.*"
DEGRADED_AFTER_SECONDS = 45.0
DOWN_AFTER_SECONDS = 120.0
# A site id is one NATS subject token and part of a link id: no dots, wildcards or spaces.
SITE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
LinkStatus = Literal["healthy", "degraded", "down"]


class Heartbeat(BaseModel):
    """``{site_id, name, tier, agent_count, version, ts}`` on ``aurora.federation.health.<site_id>``."""

    model_config = ConfigDict(extra="ignore")

    site_id: str = Field(pattern=SITE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    tier: Literal["primary", "secondary"]
    agent_count: int = Field(ge=0)
    version: str = Field(max_length=64)
    ts: AwareDatetime


class FederatedAlert(BaseModel):
    """A local alert as it leaves its site on ``AURORA.alerts``, stamped with ``origin_site``."""

    model_config = ConfigDict(extra="ignore")

    origin_site: str = Field(pattern=SITE_ID_PATTERN)
    alert_id: str
    title: str
    severity: Severity
    source: str
    description: str | None = None
    iocs: list[str] = []
    mitre_techniques: list[str] = []
    asset_type: AssetType | None = None
    affected_assets: list[str] = []

    def to_alert_create(self) -> AlertCreate:
        """What the receiving site hands ``AlertService.create``: same dedup fields, ``origin_site`` set."""
        return AlertCreate(
            title=self.title,
            severity=self.severity,
            source=self.source,
            description=self.description,
            iocs=self.iocs,
            mitre_techniques=self.mitre_techniques,
            asset_type=self.asset_type,
            affected_assets=self.affected_assets,
            origin_site=self.origin_site,
            metadata={"federated_alert_id": self.alert_id},
        )


def health_subject(site_id: str) -> str:
    return f"{HEALTH_SUBJECT_PREFIX}.{site_id}"


def link_id(site: str, other: str) -> str:
    """``link-<a>-<b>`` with the ids sorted, so both ends name the link alike."""
    first, second = sorted((site, other))
    return f"link-{first}-{second}"


def link_status(silence_seconds: float) -> LinkStatus:
    if silence_seconds >= DOWN_AFTER_SECONDS:
        return "down"
    if silence_seconds >= DEGRADED_AFTER_SECONDS:
        return "degraded"
    return "healthy"


def latency_ms(received_at: datetime, sent_at: datetime) -> float:
    """Receive time - heartbeat ``ts``; clock skew can make it negative, which reads as 0."""
    return round(max(0.0, (received_at - sent_at).total_seconds() * 1000.0), 2)


def should_federate(severity: str, origin_site: str | None, min_severity: str) -> bool:
    """Local alerts at or above the floor leave the site; received ones never go out again."""
    return origin_site is None and Severity(severity).rank >= Severity(min_severity).rank


def federated_alert(alert: AlertModel, site_id: str) -> FederatedAlert:
    return FederatedAlert(
        origin_site=site_id,
        alert_id=str(alert.id),
        title=alert.title,
        severity=Severity(alert.severity),
        source=alert.source,
        description=alert.description,
        iocs=list(alert.iocs or []),
        mitre_techniques=list(alert.mitre_techniques or []),
        asset_type=AssetType(alert.asset_type) if alert.asset_type else None,
        affected_assets=list(alert.affected_assets or []),
    )


def alert_msg_id(message: FederatedAlert) -> str:
    """JetStream ``Nats-Msg-Id``: a re-published alert (pipeline retry) is stored once."""
    return f"alert-{message.origin_site}-{message.alert_id}"


def summary_stamp(data: dict[str, Any], site_id: str) -> dict[str, Any]:
    return {**data, "origin_site": site_id}
