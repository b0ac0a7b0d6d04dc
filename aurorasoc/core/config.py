"""Runtime configuration.

One ``Settings`` object, built from the environment (and an optional ``.env``), with nested
groups. Every field's alias is the documented environment variable, so ``AURORA_MODE=dry_run``
and ``MQTT_PORT=1883`` map one-to-one to ``settings.mode`` and ``settings.mqtt.port``. The
embedded defaults need no environment at all.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RuntimeModeName = Literal["dummy", "dry_run", "real"]
SeverityName = Literal["critical", "high", "medium", "low", "info"]


class _Group(BaseSettings):
    """Base for a settings group: reads its own aliases from the environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )


class AuthSettings(_Group):
    jwt_secret_key: str = Field("", alias="JWT_SECRET_KEY", repr=False)
    jwt_expiry_hours: int = Field(24, alias="JWT_EXPIRY_HOURS", ge=1, le=24 * 30)
    api_service_key: str = Field("", alias="API_SERVICE_KEY", repr=False)
    admin_username: str = Field("admin", alias="AURORA_ADMIN_USERNAME")
    admin_password: str = Field("", alias="AURORA_ADMIN_PASSWORD", repr=False)
    cookie_secure: Literal["auto", "true", "false"] = Field("auto", alias="AURORA_COOKIE_SECURE")
    api_key_cache_ttl_seconds: int = Field(60, alias="AURORA_API_KEY_CACHE_TTL_SECONDS", ge=0)
    # Comma-separated origins (``https://soc.example.com``) besides the request's own host that may
    # send cookie-authenticated writes and open WebSockets (a console served from another origin).
    trusted_origins: str = Field("", alias="AURORA_TRUSTED_ORIGINS")

    @field_validator("jwt_secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("JWT_SECRET_KEY must be at least 32 characters")
        return value


class OIDCSettings(_Group):
    issuer: str = Field("", alias="AURORA_OIDC_ISSUER")
    scopes: str = Field("openid profile email", alias="AURORA_OIDC_SCOPES")
    client_id: str = Field("", alias="AURORA_OIDC_CLIENT_ID")
    client_secret: str = Field("", alias="AURORA_OIDC_CLIENT_SECRET", repr=False)
    redirect_url: str = Field("", alias="AURORA_OIDC_REDIRECT_URL")
    role_claim: str = Field("groups", alias="AURORA_OIDC_ROLE_CLAIM")
    role_map: dict[str, str] = Field(default_factory=dict, alias="AURORA_OIDC_ROLE_MAP")
    default_role: str = Field("viewer", alias="AURORA_OIDC_DEFAULT_ROLE")
    display_name: str = Field("Single sign-on", alias="AURORA_OIDC_DISPLAY_NAME")

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)


class RateLimitSettings(_Group):
    """Per identity and route class (reads / writes / ingest / sign-in), each its own bucket."""

    requests: int = Field(300, alias="AURORA_RATE_LIMIT_REQUESTS", ge=1)  # reads (GET/HEAD)
    writes: int = Field(120, alias="AURORA_RATE_LIMIT_WRITES", ge=1)
    ingest: int = Field(6000, alias="AURORA_RATE_LIMIT_INGEST", ge=1)
    auth: int = Field(30, alias="AURORA_RATE_LIMIT_AUTH", ge=1)  # sign-in routes, per IP
    window_seconds: int = Field(60, alias="AURORA_RATE_LIMIT_WINDOW_SECONDS", ge=1)
    login: int = Field(10, alias="AURORA_LOGIN_RATE_LIMIT", ge=1)


class MessagingSettings(_Group):
    redis_url: str = Field("", alias="AURORA_REDIS_URL")
    # The most entries a Redis stream keeps for a consumer that fell behind (acknowledged ones are
    # trimmed within seconds, core/bus/stream_trim.py); past it the oldest unread entries are lost.
    stream_maxlen: int = Field(200_000, alias="AURORA_STREAM_MAXLEN", ge=1)
    stream_max_deliveries: int = Field(5, alias="AURORA_STREAM_MAX_DELIVERIES", ge=1)
    stream_claim_idle_seconds: int = Field(60, alias="AURORA_STREAM_CLAIM_IDLE_SECONDS", ge=1)
    nats_url: str = Field("", alias="AURORA_NATS_URL")


class MQTTSettings(_Group):
    enabled: bool = Field(False, alias="MQTT_ENABLED")
    host: str = Field("localhost", alias="MQTT_HOST")
    port: int = Field(8883, alias="MQTT_PORT", ge=1, le=65535)
    tls: bool = Field(True, alias="MQTT_TLS")
    client_id: str = Field("aurorasoc-backend", alias="MQTT_CLIENT_ID")
    # Consumers subscribe as $share/<namespace>-<group>/…; empty: plain subscriptions (one consumer).
    share_group: str = Field("ingest", alias="MQTT_SHARE_GROUP", pattern=r"^[A-Za-z0-9_-]{0,64}$")
    ca_file: str = Field("", alias="MQTT_CA_FILE")
    cert_file: str = Field("", alias="MQTT_CERT_FILE")
    key_file: str = Field("", alias="MQTT_KEY_FILE")


class FederationSettings(_Group):
    enabled: bool = Field(False, alias="FEDERATION_ENABLED")
    site_id: str = Field("local", alias="FEDERATION_SITE_ID")
    site_name: str = Field("AuroraSOC", alias="FEDERATION_SITE_NAME")
    site_tier: Literal["primary", "secondary"] = Field("primary", alias="FEDERATION_SITE_TIER")
    federate_min_severity: SeverityName = Field("high", alias="FEDERATION_FEDERATE_MIN_SEVERITY")
    heartbeat_interval_seconds: int = Field(15, alias="FEDERATION_HEARTBEAT_INTERVAL_SECONDS", ge=1)
    # A new site's durable consumer starts at "now"; true replays what the stream still keeps.
    replay: bool = Field(False, alias="FEDERATION_REPLAY")


class DetectionSettings(_Group):
    ingest_paths: str = Field("", alias="AURORA_INGEST_PATHS")
    ingest_max_body_mb: int = Field(10, alias="AURORA_INGEST_MAX_BODY_MB", ge=1)
    ingest_max_decompressed_mb: int = Field(1024, alias="AURORA_INGEST_MAX_DECOMPRESSED_MB", ge=1)
    ingest_max_compression_ratio: int = Field(100, alias="AURORA_INGEST_MAX_COMPRESSION_RATIO", ge=2)
    ingest_max_line_kb: int = Field(1024, alias="AURORA_INGEST_MAX_LINE_KB", ge=1)
    ingest_max_fields: int = Field(1000, alias="AURORA_INGEST_MAX_FIELDS", ge=1)
    ingest_max_field_kb: int = Field(256, alias="AURORA_INGEST_MAX_FIELD_KB", ge=1)
    sigma_rule_paths: str = Field("", alias="AURORA_SIGMA_RULE_PATHS")
    rule_pack_source: str = Field(
        "https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip",
        alias="AURORA_RULE_PACK_SOURCE",
    )
    rule_pack_auto_install: bool = Field(True, alias="AURORA_RULE_PACK_AUTO_INSTALL")
    rule_pack_timeout_seconds: float = Field(5.0, alias="AURORA_RULE_PACK_TIMEOUT_SECONDS", gt=0)
    siem_retention_days: int = Field(30, alias="AURORA_SIEM_RETENTION_DAYS", ge=1)
    correlation_window_minutes: int = Field(60, alias="AURORA_CORRELATION_WINDOW_MINUTES", ge=1)
    # A detection repeats into one alert within this window of event time (0: whenever it is open).
    alert_dedup_window_hours: int = Field(24, alias="AURORA_ALERT_DEDUP_WINDOW_HOURS", ge=0)
    # Spec §27.3: an observable on this many hosts, or on this share of known hosts, is "common".
    observable_common_hosts: int = Field(5, alias="AURORA_OBSERVABLE_COMMON_HOSTS", ge=2)
    observable_common_fraction: float = Field(0.2, alias="AURORA_OBSERVABLE_COMMON_FRACTION", gt=0, le=1)
    auto_case_min_severity: SeverityName = Field("high", alias="AURORA_AUTO_CASE_MIN_SEVERITY")
    network_attack_window_minutes: int = Field(15, alias="AURORA_NETWORK_ATTACK_WINDOW_MINUTES", ge=1)


class SOARSettings(_Group):
    approval_ttl_minutes: int = Field(30, alias="AURORA_APPROVAL_TTL_MINUTES", ge=1)
    playbook_paths: str = Field("", alias="AURORA_PLAYBOOK_PATHS")
    connectors: dict[str, str] = Field(default_factory=dict, alias="AURORA_CONNECTORS")
    notify_webhook_url: str = Field("", alias="AURORA_NOTIFY_WEBHOOK_URL")


class AgentSettings(_Group):
    llm_base_url: str = Field("", alias="AURORA_LLM_BASE_URL")
    llm_api_key: str = Field("", alias="AURORA_LLM_API_KEY", repr=False)
    llm_model: str = Field("", alias="AURORA_LLM_MODEL")
    llm_orchestrator_model: str = Field("", alias="AURORA_LLM_ORCHESTRATOR_MODEL")
    llm_timeout_seconds: float = Field(60, alias="AURORA_LLM_TIMEOUT_SECONDS", gt=0)
    llm_max_steps: int = Field(8, alias="AURORA_LLM_MAX_STEPS", ge=1)
    # fleet-wide budget of one investigation (orchestrator + every specialist it asks)
    investigation_token_budget: int = Field(200_000, alias="AURORA_INVESTIGATION_TOKEN_BUDGET", ge=1)
    investigation_step_budget: int = Field(60, alias="AURORA_INVESTIGATION_STEP_BUDGET", ge=1)
    task_timeout_seconds: float = Field(600, alias="AURORA_AGENT_TASK_TIMEOUT_SECONDS", gt=0)
    enabled_agents: str = Field("all", alias="ENABLED_AGENTS")
    a2a_mode: Literal["embedded", "remote"] = Field("embedded", alias="AURORA_A2A_MODE")
    a2a_url_template: str = Field("http://127.0.0.1:{port}", alias="AURORA_A2A_URL_TEMPLATE")
    a2a_base_port: int = Field(9000, alias="AURORA_A2A_BASE_PORT", ge=1, le=65535)
    a2a_timeout_seconds: float = Field(120, alias="AURORA_A2A_TIMEOUT_SECONDS", gt=0)
    circuit_threshold: int = Field(5, alias="AURORA_CIRCUIT_THRESHOLD", ge=1)
    circuit_timeout_seconds: float = Field(60, alias="AURORA_CIRCUIT_TIMEOUT_SECONDS", gt=0)
    agent_name: str = Field("", alias="AGENT_NAME")
    agent_port: int | None = Field(None, alias="AGENT_PORT")
    agent_tags: str = Field("", alias="AGENT_TAGS")

    @property
    def configured(self) -> bool:
        return bool(self.llm_base_url)

    @property
    def orchestrator_model(self) -> str:
        return self.llm_orchestrator_model or self.llm_model


class MemorySettings(_Group):
    embedder: Literal["auto", "hashing", "sentence_transformers"] = Field("auto", alias="AURORA_EMBEDDER")
    embedding_model: str = Field("all-MiniLM-L6-v2", alias="AURORA_EMBEDDING_MODEL")


class IntelSettings(_Group):
    vt_api_key: str = Field("", alias="THREAT_INTEL_VT_API_KEY", repr=False)
    shodan_api_key: str = Field("", alias="THREAT_INTEL_SHODAN_API_KEY", repr=False)
    abuseipdb_api_key: str = Field("", alias="THREAT_INTEL_ABUSEIPDB_API_KEY", repr=False)
    otx_api_key: str = Field("", alias="THREAT_INTEL_OTX_API_KEY", repr=False)
    ioc_cache_ttl_seconds: int = Field(3600, alias="AURORA_IOC_CACHE_TTL_SECONDS", ge=0)
    ioc_expiry_days: int = Field(90, alias="AURORA_IOC_EXPIRY_DAYS", ge=1)


class CPSSettings(_Group):
    attestation_interval_seconds: int = Field(300, alias="AURORA_ATTESTATION_INTERVAL_SECONDS", ge=1)
    attestation_nonce_ttl_seconds: int = Field(300, alias="AURORA_ATTESTATION_NONCE_TTL_SECONDS", ge=1)
    device_stale_minutes: int = Field(10, alias="AURORA_DEVICE_STALE_MINUTES", ge=1)
    device_offline_minutes: int = Field(60, alias="AURORA_DEVICE_OFFLINE_MINUTES", ge=1)
    telemetry_retention_days: int = Field(30, alias="AURORA_TELEMETRY_RETENTION_DAYS", ge=1)
    firmware_signing_pubkey_path: str = Field("", alias="FIRMWARE_SIGNING_PUBKEY_PATH")
    # Off: messages from unregistered device ids are rejected and counted. On: a ``status`` from a
    # new id registers it quarantined (untrusted, never verified) until an operator approves it.
    auto_register: bool = Field(False, alias="AURORA_CPS_AUTO_REGISTER")


class ServerSettings(_Group):
    """Load shedding and shutdown of the API and worker processes (spec §28, issue 15)."""

    # Expensive reads (alert list, SIEM search/histogram/facets, hunts, reports) running at once per
    # process; up to ``expensive_queue`` more wait at most ``expensive_queue_seconds``, the rest get 503.
    expensive_concurrency: int = Field(8, alias="AURORA_EXPENSIVE_CONCURRENCY", ge=1)
    expensive_queue: int = Field(32, alias="AURORA_EXPENSIVE_QUEUE", ge=0)
    expensive_queue_seconds: float = Field(10.0, alias="AURORA_EXPENSIVE_QUEUE_SECONDS", gt=0)
    # After SIGTERM: in-flight requests and stream handlers get the grace period, then are cancelled
    # (their stream entries stay unacknowledged for another consumer); past the timeout the process
    # exits whatever is still running.
    shutdown_grace_seconds: float = Field(5.0, alias="AURORA_SHUTDOWN_GRACE_SECONDS", ge=0)
    shutdown_timeout_seconds: float = Field(9.0, alias="AURORA_SHUTDOWN_TIMEOUT_SECONDS", gt=0)

    @model_validator(mode="after")
    def _grace_within_timeout(self) -> ServerSettings:
        if self.shutdown_grace_seconds >= self.shutdown_timeout_seconds:
            raise ValueError("AURORA_SHUTDOWN_GRACE_SECONDS must be below AURORA_SHUTDOWN_TIMEOUT_SECONDS")
        return self


class SchedulerSettings(_Group):
    enabled: bool = Field(True, alias="AURORA_SCHEDULER_ENABLED")
    dedup_interval_seconds: int = Field(60, alias="AURORA_DEDUP_INTERVAL_SECONDS", ge=1)
    hunt_interval_seconds: int = Field(60, alias="AURORA_HUNT_INTERVAL_SECONDS", ge=1)
    approval_expiry_interval_seconds: int = Field(120, alias="AURORA_APPROVAL_EXPIRY_INTERVAL_SECONDS", ge=1)
    metrics_interval_seconds: int = Field(15, alias="AURORA_METRICS_INTERVAL_SECONDS", ge=1)
    intel_feed_interval_seconds: int = Field(60, alias="AURORA_INTEL_FEED_INTERVAL_SECONDS", ge=1)


class ObservabilitySettings(_Group):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", alias="AURORA_LOG_LEVEL"
    )
    log_format: Literal["json", "console"] = Field("json", alias="AURORA_LOG_FORMAT")
    metrics_enabled: bool = Field(True, alias="AURORA_METRICS_ENABLED")
    otlp_endpoint: str = Field("", alias="AURORA_OTLP_ENDPOINT")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Settings(_Group):
    """Effective configuration of one AuroraSOC process."""

    mode: RuntimeModeName = Field("real", alias="AURORA_MODE")
    # Prefix of every Redis key/stream, NATS stream/subject/durable and MQTT topic (issue 20).
    namespace: str = Field("aurora", alias="AURORA_NAMESPACE", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    data_dir: Path = Field(Path("~/.aurorasoc"), alias="AURORA_DATA_DIR")
    database_url: str = Field("", alias="AURORA_DATABASE_URL")

    auth: AuthSettings = Field(default_factory=AuthSettings)
    oidc: OIDCSettings = Field(default_factory=OIDCSettings)
    ratelimit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    mqtt: MQTTSettings = Field(default_factory=MQTTSettings)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    soar: SOARSettings = Field(default_factory=SOARSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    intel: IntelSettings = Field(default_factory=IntelSettings)
    cps: CPSSettings = Field(default_factory=CPSSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

    @field_validator("mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'aurorasoc.db'}"
        elif not self.database_url.startswith(("sqlite", "postgresql")):
            raise ValueError("AURORA_DATABASE_URL must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    def redacted(self) -> dict[str, Any]:
        """The effective configuration with secrets and URL passwords masked, for display."""
        dumped: dict[str, Any] = json.loads(self.model_dump_json())
        for group in dumped.values():
            if isinstance(group, dict):
                for key in group:
                    if _is_secret(key) and group[key]:
                        group[key] = "********"
        dumped["database_url"] = _mask_url(self.database_url)
        dumped["messaging"]["redis_url"] = _mask_url(self.messaging.redis_url)
        return dumped


def _is_secret(key: str) -> bool:
    return key.endswith(("_key", "_secret", "password")) or key == "jwt_secret_key"


def _mask_url(url: str) -> str:
    """Hide the password part of ``scheme://user:password@host``."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}" if ":" in creds else url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings so the next ``get_settings()`` rereads the environment."""
    get_settings.cache_clear()
