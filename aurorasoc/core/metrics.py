"""Prometheus metrics of this process (names from spec §22)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HTTP_CANCELLED = Counter(
    "http_requests_cancelled_total", "Requests cancelled because the client disconnected first", ["route"]
)
HTTP_SHED = Counter(
    "http_requests_shed_total",
    "Expensive requests answered 503 server_busy (admission queue full)",
    ["route"],
)
ALERTS_CREATED = Counter("alerts_created_total", "Alerts created", ["severity", "source"])
ALERTS_DEDUPLICATED = Counter("alerts_deduplicated_total", "Alert submissions merged into an existing alert")
CASES_CREATED = Counter("cases_created_total", "Cases created", ["source"])
NETWORK_ATTACK_DETECTIONS = Counter(
    "network_attack_detections_total", "Correlated network attacks detected", ["category"]
)
RATE_LIMIT_FALLBACK = Gauge(
    "rate_limit_fallback_active", "1 while the rate limiter uses its in-memory fallback"
)
RATE_LIMITED = Counter("rate_limit_rejections_total", "Requests rejected by the rate limiter", ["scope"])
WS_CONNECTIONS = Gauge("ws_connections", "Open WebSocket connections", ["channel"])
BUS_PUBLISH_FAILURES = Counter("bus_publish_failures_total", "Bus messages dropped after retries", ["stream"])
BUS_STREAM_BACKLOG = Gauge(
    "bus_stream_backlog",
    "Entries the slowest durable consumer group of a stream has not acknowledged",
    ["stream"],
)
EVENTS_INGESTED = Counter("events_ingested_total", "Log events accepted by ingest", ["source"])
EVENTS_PARSE_ERRORS = Counter("events_parse_errors_total", "Log records that could not be parsed", ["source"])
DETECTION_RULE_HITS = Counter("detection_rule_hits_total", "Sigma rule matches", ["rule_uid"])
DETECTION_EVAL = Histogram(
    "detection_eval_seconds",
    "Sigma evaluation time per pipeline batch (up to 500 events)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OPEN_ALERTS = Gauge("alerts_open", "Open alerts by severity (scheduler refresh)", ["severity"])
OPEN_CASES = Gauge("cases_open", "Open cases by severity (scheduler refresh)", ["severity"])
APPROVALS_PENDING = Gauge("approvals_pending", "Approvals waiting for a decision")
SCHEDULER_JOB_FAILURES = Counter("scheduler_job_failures_total", "Background jobs that raised", ["job"])
