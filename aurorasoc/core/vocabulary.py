"""Domain vocabulary: the enums and Pydantic transport models the API and services exchange.

Enum values are what the API and the database carry, so every enum is ``str``-valued. Transport
models never expose persistence details such as the alert dedup hash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def utcnow() -> datetime:
    return datetime.now(UTC)


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Ordering weight: higher is more severe."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class AlertStatus(str, Enum):
    NEW = "new"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"


class AlertResolution(str, Enum):
    BENIGN = "benign"
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"
    REMEDIATED = "remediated"


class CaseStatus(str, Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING_APPROVAL = "pending_approval"
    CONTAINED = "contained"
    ERADICATED = "eradicated"
    RECOVERED = "recovered"
    RESOLVED = "resolved"
    CLOSED = "closed"
    INVESTIGATING = "investigating"  # legacy, behaves like in_progress
    ESCALATED = "escalated"  # legacy, behaves like in_progress


class CaseSource(str, Enum):
    MANUAL = "manual"
    ALERT_PROMOTION = "alert_promotion"
    CORRELATION = "correlation"
    SIEM_PROMOTION = "siem_promotion"
    AGENT = "agent"
    NETWORK_ATTACK = "network_attack"


class IOCType(str, Enum):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH_MD5 = "hash_md5"
    HASH_SHA1 = "hash_sha1"
    HASH_SHA256 = "hash_sha256"
    EMAIL = "email"
    CVE = "cve"
    FILE_PATH = "file_path"
    REGISTRY_KEY = "registry_key"
    MUTEX = "mutex"
    USER_AGENT = "user_agent"


class IOCStatus(str, Enum):
    ACTIVE = "active"
    EXPIRED = "expired"
    FALSE_POSITIVE = "false_positive"


class TLP(str, Enum):
    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class AssetType(str, Enum):
    SERVER = "server"
    WORKSTATION = "workstation"
    IOT_SENSOR = "iot_sensor"
    CPS_CONTROLLER = "cps_controller"
    NETWORK_DEVICE = "network_device"
    CLOUD_RESOURCE = "cloud_resource"
    IDENTITY = "identity"
    APPLICATION = "application"


class Role(str, Enum):
    ADMIN = "admin"
    ANALYST = "analyst"
    OPERATOR = "operator"
    VIEWER = "viewer"
    API_SERVICE = "api_service"


class AgentType(str, Enum):
    ORCHESTRATOR = "orchestrator"
    SECURITY_ANALYST = "security_analyst"
    THREAT_HUNTER = "threat_hunter"
    MALWARE_ANALYST = "malware_analyst"
    INCIDENT_RESPONDER = "incident_responder"
    NETWORK_SECURITY = "network_security"
    CPS_SECURITY = "cps_security"
    THREAT_INTEL = "threat_intel"
    ENDPOINT_SECURITY = "endpoint_security"
    FORENSIC_ANALYST = "forensic_analyst"
    WEB_SECURITY = "web_security"
    REPORT_GENERATOR = "report_generator"
    VULNERABILITY_MANAGER = "vulnerability_manager"
    COMPLIANCE_ANALYST = "compliance_analyst"


class FirmwareStack(str, Enum):
    ZEPHYR = "zephyr"
    RUST_EMBASSY = "rust_embassy"
    ADA_SPARK = "ada_spark"
    ESP_IDF = "esp_idf"


class DeviceFamily(str, Enum):
    ESP32S3 = "esp32s3"
    ESP32C3 = "esp32c3"
    NRF52840 = "nrf52840"
    STM32 = "stm32"


class AttestationStatus(str, Enum):
    UNKNOWN = "unknown"
    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"
    REVOKED = "revoked"


class DeviceHealth(str, Enum):
    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"


class ApprovalStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class InvestigationStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    REVIEW_REQUIRED = "review_required"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"


class ExecutionStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ActionClass(str, Enum):
    READ = "read"
    WRITE_INTERNAL = "write_internal"
    WRITE_EXTERNAL = "write_external"
    ACTUATE = "actuate"
    DESTRUCTIVE = "destructive"


class RuntimeMode(str, Enum):
    DUMMY = "dummy"
    DRY_RUN = "dry_run"
    REAL = "real"


class ReportType(str, Enum):
    TECHNICAL = "technical"
    EXECUTIVE = "executive"
    COMPLIANCE = "compliance"


class HuntSharingMode(str, Enum):
    PRIVATE = "private"
    TEAM = "team"
    ROLES = "roles"


class CorrelationType(str, Enum):
    PHYSICAL_TAMPER = "PHYSICAL_TAMPER"
    FIRMWARE_MISMATCH = "FIRMWARE_MISMATCH"
    ANOMALOUS_TELEMETRY = "ANOMALOUS_TELEMETRY"
    COMMUNICATION_ANOMALY = "COMMUNICATION_ANOMALY"
    LOCATION_ANOMALY = "LOCATION_ANOMALY"


class _Transport(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- alerts ---------------------------------------------------------------------------------


class Alert(_Transport):
    id: str
    title: str
    severity: Severity
    source: str
    status: AlertStatus = AlertStatus.NEW
    description: str | None = None
    iocs: list[str] = []
    mitre_techniques: list[str] = []
    asset_type: AssetType | None = None
    affected_assets: list[str] = []
    raw_log: str | None = None
    assigned_agent: AgentType | None = None
    case_id: str | None = None
    occurrence_count: int = 1
    origin_site: str | None = None
    metadata: dict[str, Any] = {}
    created_at: datetime = Field(default_factory=utcnow)


class AlertCreate(BaseModel):
    """What a producer (forwarder, rule hit, device) submits; the service assigns the rest."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    severity: Severity = Severity.MEDIUM
    source: str = Field(min_length=1, max_length=128)
    description: str | None = Field(None, max_length=20_000)
    iocs: list[str] = Field(default_factory=list, max_length=200)
    mitre_techniques: list[str] = Field(default_factory=list, max_length=100)
    asset_type: AssetType | None = None
    affected_assets: list[str] = Field(default_factory=list, max_length=200)
    raw_log: str | None = Field(None, max_length=65_536)
    origin_site: str | None = Field(None, max_length=128)
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Evidence (spec §27): event times of the events behind the alert, their entities (ECS keys such
    # as ``host.name``, ``process.parent.executable``) and every extracted observable.
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    entities: dict[str, Any] = Field(default_factory=dict)
    observables: list[dict[str, str]] = Field(default_factory=list, max_length=200)

    @field_validator("title", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("must not be blank")
        return stripped

    @field_validator("observables")
    @classmethod
    def _typed_values(cls, items: list[dict[str, str]]) -> list[dict[str, str]]:
        """Every observable names its type and value (dedup, prevalence and matching key on them)."""
        for item in items:
            if not item.get("type") or not item.get("value"):
                raise ValueError("each observable needs a non-empty 'type' and 'value'")
            if len(item["type"]) > 32 or len(item["value"]) > 2048:
                raise ValueError("observable type is at most 32 and value at most 2048 characters")
        return items


# --- cases ----------------------------------------------------------------------------------


class TimelineEntry(_Transport):
    id: str
    case_id: str
    action: str
    actor: str
    details: str | None = None
    data: dict[str, Any] = {}
    timestamp: datetime = Field(default_factory=utcnow)


class Case(_Transport):
    id: str
    title: str
    severity: Severity
    status: CaseStatus = CaseStatus.OPEN
    description: str | None = None
    assigned_to: str | None = None
    assigned_agent: AgentType | None = None
    source: CaseSource = CaseSource.MANUAL
    cps_involved: bool = False
    confidence: float | None = Field(None, ge=0, le=1)
    mitre_techniques: list[str] = []
    iocs: list[str] = []
    affected_assets: list[str] = []
    recommendations: list[Any] = []
    resolution_notes: str | None = None
    created_by: str | None = None
    closed_at: datetime | None = None
    metadata: dict[str, Any] = {}
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime | None = None


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    severity: Severity = Severity.MEDIUM
    description: str | None = Field(None, max_length=20_000)
    alert_ids: list[str] = Field(default_factory=list, max_length=500)
    assigned_to: str | None = Field(None, max_length=64)


# --- intelligence ---------------------------------------------------------------------------


class IOC(_Transport):
    id: str | None = None
    type: IOCType
    value: str = Field(min_length=1, max_length=2048)
    source: str = "manual"
    confidence: float = Field(0.5, ge=0, le=1)
    status: IOCStatus = IOCStatus.ACTIVE
    tags: list[str] = []
    description: str | None = None
    tlp: TLP = TLP.AMBER
    sightings: int = 1
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    origin_site: str | None = None


# --- response -------------------------------------------------------------------------------


class HumanApproval(_Transport):
    id: str
    action_type: str
    target: str | None = None
    action_params: dict[str, Any] = {}
    justification: str | None = None
    requested_by: str
    risk_level: Severity = Severity.LOW
    escalated: bool = False
    status: ApprovalStatus = ApprovalStatus.PENDING
    case_id: str | None = None
    execution_id: str | None = None
    investigation_id: str | None = None
    expires_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PlaybookStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    action: str
    action_class: ActionClass
    requires_approval: bool = False
    parameters: dict[str, Any]
    timeout: int = Field(ge=1, le=3600)
    condition: str | None = None
    rollback_action: str | None = None
    rollback_params: dict[str, Any] | None = None


class PlaybookDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    description: str
    severity_filter: Literal["low", "medium", "high", "critical"]
    enabled: bool
    requires_approval: bool
    mitre_techniques: list[str] = []
    steps: list[PlaybookStep] = Field(min_length=1)


# --- agents ---------------------------------------------------------------------------------


class Finding(BaseModel):
    hypothesis: str | None = None
    evidence: str
    event_ids: list[str] = []  # stored SIEM events the finding rests on
    confidence: float = Field(ge=0, le=1)


class AgentResult(BaseModel):
    summary: str
    severity: Severity = Severity.INFO
    confidence: float = Field(0.0, ge=0, le=1)
    mitre_techniques: list[str] = []
    iocs: list[str] = []
    recommendations: list[str] = []
    findings: list[Finding] = []
    proposed_actions: list[dict[str, Any]] = []


class Investigation(_Transport):
    id: str
    task_id: str
    agent: str
    prompt: str
    priority: int = Field(5, ge=1, le=10)
    requested_by: str | None = None
    alert_id: str | None = None
    case_id: str | None = None
    status: InvestigationStatus = InvestigationStatus.PENDING
    result: dict[str, Any] | None = None
    confidence: float | None = None
    error: str | None = None
    simulated: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None


class InvestigationEvent(_Transport):
    investigation_id: str
    seq: int
    event_type: str
    payload: dict[str, Any] = {}
    created_at: datetime = Field(default_factory=utcnow)


# --- detection ------------------------------------------------------------------------------


class NormalizedEvent(BaseModel):
    id: str | None = None
    timestamp: datetime = Field(default_factory=utcnow)
    received_at: datetime = Field(default_factory=utcnow)
    source: str
    format: str
    product: str | None = None
    category: str | None = None
    service: str | None = None
    event_id: str | None = None
    host: str | None = None
    user_name: str | None = None
    src_ip: str | None = None
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    severity: Severity = Severity.INFO
    message: str | None = None
    fields: dict[str, Any] = {}
    raw: str | None = None
    # ``record`` when ``timestamp`` came from the record itself, ``received`` when it is the arrival time.
    time_source: str = "received"
    entities: dict[str, Any] = {}
    # The k-th byte-identical text record of its source (0 for the first): two identical access-log
    # lines are two requests, and stay two events (spec §27.5 "source + record id").
    repeat: int = 0


# --- CPS ------------------------------------------------------------------------------------


class CPSDevice(_Transport):
    device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str
    device_type: str
    firmware_stack: FirmwareStack
    board_family: DeviceFamily | None = None
    firmware_version: str | None = None
    location: str | None = None
    zone_id: str | None = None
    attestation_status: AttestationStatus = AttestationStatus.UNKNOWN
    health: DeviceHealth | None = None
    risk_score: float = 0.0
    last_seen_at: datetime | None = None


# --- runtime --------------------------------------------------------------------------------


class SystemMode(BaseModel):
    """Runtime truth for one process (spec §6); every flag derives from mode + DB reachability."""

    mode: RuntimeMode
    description: str
    is_read_only: bool
    is_mutations_allowed: bool
    is_external_actions_allowed: bool
    is_database_available: bool
    showcase_reads_allowed: bool
    uses_showcase_data: bool
    read_data_source: Literal["database", "showcase", "unavailable"]
