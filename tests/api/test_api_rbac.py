"""Every HTTP route x every role: 2xx, 403 or 401, derived from ROLE_PERMISSIONS alone.

Routes and the permissions they require are discovered from the application's dependency tree
(``require_permission`` marks its dependency with ``required_permissions``), so a new route is
covered automatically; the only per-route data here is how to build a *valid* request for it.
"""

from __future__ import annotations

import io
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import isolate_environment, serving
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from firmware_support import Signer, install_signer

from aurorasoc.agents.models import InvestigationModel
from aurorasoc.api.main import create_app
from aurorasoc.cases.files import CaseEvidenceService
from aurorasoc.core.api_keys import generate_api_key, hash_api_key
from aurorasoc.core.auth import ROLE_PERMISSIONS, get_principal
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import (
    AlertModel,
    ApiKeyModel,
    AutomationRuleModel,
    CaseModel,
    DetectionRuleModel,
    HumanApprovalModel,
    IntelFeedModel,
    IOCModel,
    LogSourceModel,
    PlaybookExecutionModel,
    PlaybookModel,
    ReportModel,
    RuleExceptionModel,
    RulePackModel,
    SiemHuntModel,
    SiemLogModel,
    UserModel,
)
from aurorasoc.core.rbac import missing_permissions
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import Role
from aurorasoc.network.models import NetworkAttackModel

PASSWORD = "correct horse battery staple"  # tests/conftest.py TEST_PASSWORD
_counter = itertools.count()
FIRMWARE_SIGNER = Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
# body_for gives httpx ``data``/``files`` for these
MULTIPART = {"POST /api/v1/firmware/bundles", "POST /api/v1/cases/{case_id}/evidence"}
UNREACHABLE_ARCHIVE = "http://127.0.0.1:9/rbac-rules.zip"  # nothing listens: the fetch fails at once


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One application object for the whole matrix.

    FastAPI builds the routes' dependency trees on an application's first request, about a
    quarter of this module's CPU when paid per test. Each test still runs the lifespan over its
    own fresh database (``app`` below). The rate limits are lifted: ~900 requests from six
    identities pass through this one application's limiter.
    """
    with pytest.MonkeyPatch.context() as env:
        isolate_environment(env, tmp_path_factory.mktemp("rbac-app"))
        env.setenv("AURORA_RATE_LIMIT_REQUESTS", "1000000")
        env.setenv("AURORA_RATE_LIMIT_WRITES", "1000000")
        reset_settings()
        application = create_app()
    reset_settings()
    return application


@pytest.fixture
async def app(app_db: None, shared_app: FastAPI) -> AsyncIterator[FastAPI]:
    async with serving(shared_app) as application:
        yield application


@pytest.fixture(autouse=True)
def _firmware_signing_key(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bundle uploads need FIRMWARE_SIGNING_PUBKEY_PATH; FIRMWARE_SIGNER signs them."""
    install_signer(tmp_path, monkeypatch, FIRMWARE_SIGNER.key)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    required: tuple[str, ...]
    authenticated: bool

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _walk(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _walk(dep)


def _api_routes(routes: list[Any]) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) pairs; FastAPI >= 0.16x keeps included routers unflattened."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, route
        elif hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                if isinstance(context.original_route, APIRoute):
                    yield context.path, context.original_route


def discover_routes() -> list[RouteSpec]:
    specs = []
    for path, route in _api_routes(create_app().routes):
        calls = list(_walk(route.dependant))
        required = tuple(p for call in calls for p in getattr(call, "required_permissions", ()))
        for method in sorted(route.methods):
            specs.append(RouteSpec(method, path, required, get_principal in calls))
    return specs


ROUTES = discover_routes()


def expected_status(spec: RouteSpec, role: Role) -> str:
    return "forbidden" if missing_permissions(ROLE_PERMISSIONS[role], spec.required) else "allowed"


# --- building a valid request for each route -------------------------------------------------


@dataclass
class Seeds:
    alert_id: str
    free_alert_id: str
    case_id: str
    username: str
    key_id: str
    rule_id: str = ""
    siem: dict[str, str] = field(default_factory=dict)  # log_id, source_id, hunt_id
    report_id: str = ""
    soar: dict[str, str] = field(default_factory=dict)  # playbook, execution, approval, automation rule ids
    cps: dict[str, str] = field(default_factory=dict)  # device_id (verified), conduit_id, badge_id
    ioc_id: str = ""
    network_attack_id: str = ""
    firmware: dict[str, str] = field(default_factory=dict)  # bundle, running + draft rollout ids
    intel_feed_id: str = ""
    evidence_id: str = ""
    tuning: dict[str, str] = field(default_factory=dict)  # rule_uid, sigma_alert_id, exception_id, name


async def make_seeds(owner: str = "admin") -> Seeds:
    n = next(_counter)
    async with session_scope() as session:
        case = CaseModel(title=f"rbac case {n}", severity="medium")
        session.add(case)
        await session.flush()
        alert = AlertModel(title=f"rbac alert {n}", severity="high", source="rbac", case_id=case.id)
        free = AlertModel(title=f"rbac free alert {n}", severity="low", source="rbac")
        user = UserModel(username=f"target-{n}", role="viewer", auth_provider="oidc")
        key = ApiKeyModel(
            service_name=f"svc-{n}", key_hash=hash_api_key(generate_api_key()), key_prefix="ak_x"
        )
        rule = DetectionRuleModel(rule_uid=f"rbac-rule-{n}", title="rbac rule", yaml=_sigma(n))
        session.add_all([alert, free, user, key, rule])
        await session.flush()
        seeds = Seeds(str(alert.id), str(free.id), str(case.id), user.username, str(key.id), str(rule.id))
        seeds.siem = await _siem_seeds(session, n, owner)
        report = ReportModel(case_id=case.id, report_type="technical", title=f"rbac report {n}",
                             content_md="# r", content_html="<h1>r</h1>", generated_by=owner)  # fmt: skip
        session.add(report)
        await session.flush()
        seeds.report_id = str(report.id)
        seeds.soar = await _soar_seeds(session, n)
        seeds.cps = await _cps_seeds(session, n)
        ioc = IOCModel(type="domain", value=f"rbac-{n}.example.com")
        session.add(ioc)
        await session.flush()
        seeds.ioc_id = str(ioc.id)
        attack = NetworkAttackModel(
            title=f"rbac attack {n}", category="recon", severity="low", alert_ids=[str(free.id)]
        )
        session.add(attack)
        await session.flush()
        seeds.network_attack_id = str(attack.id)
        seeds.firmware = await _firmware_seeds(session, n, seeds.cps["device_id"])
        seeds.intel_feed_id = await _intel_feed_seed(session, n)
        evidence = await CaseEvidenceService(session).add(
            case, io.BytesIO(b"rbac evidence\n"), "rbac.log", "text/plain", kind="log", actor=owner
        )
        seeds.evidence_id = str(evidence.id)
        seeds.tuning = await _tuning_seeds(session, n)
        return seeds


async def _tuning_seeds(session: Any, n: int) -> dict[str, str]:
    """A Sigma rule with an alert it raised on a stored event, an exception, and a pack with two versions."""
    uid = _sigma_uid(2_000_000 + n)
    rule = DetectionRuleModel(rule_uid=uid, title="rbac tuned rule", yaml=_sigma(2_000_000 + n))
    log = SiemLogModel(source="rbac", format="line", message=f"rbac event {n}", host=f"rbac-host-{n}",
                       fields={"EventID": 4625})  # fmt: skip
    session.add_all([rule, log])
    await session.flush()
    alert = AlertModel(title=f"rbac sigma alert {n}", severity="low", source="sigma",
                       metadata_={"rule_uid": uid, "log_ids": [str(log.id)]})  # fmt: skip
    exception = RuleExceptionModel(rule_uid=uid, conditions={"EventID": 4625}, owner="rbac", reason="rbac")
    name = f"rbac-pack-{n}"  # version 2 is current; rollback puts version 1 back
    versions = [_pack_version(name, 1, 3_000_000 + n, current=False), _pack_version(name, 2, 4_000_000 + n)]
    session.add_all([alert, exception, *versions])
    await session.flush()
    return {"rule_uid": uid, "sigma_alert_id": str(alert.id), "exception_id": str(exception.id), "name": name}


async def _intel_feed_seed(session: Any, n: int) -> str:
    """A text feed read from a local file (the API itself only takes http(s) URLs)."""
    listing = Path(tempfile.gettempdir()) / f"rbac-intel-feed-{os.getpid()}.txt"
    listing.write_text("192.0.2.123\n")
    feed = IntelFeedModel(name=f"rbac-feed-{n}", kind="text", url=f"file://{listing}", tlp="amber",
                          confidence=0.5, expiry_days=30, refresh_minutes=60, enabled=True,
                          last_status="never", indicator_count=0)  # fmt: skip
    session.add(feed)
    await session.flush()
    return str(feed.id)


def _playbook_def(name: str) -> dict[str, Any]:
    step = {"name": "tell", "action": "notify", "action_class": "write_internal", "timeout": 5,
            "parameters": {"message": "rbac"}}  # fmt: skip
    return {"name": name, "description": "rbac", "severity_filter": "low", "enabled": True,
            "requires_approval": False, "steps": [step]}  # fmt: skip


async def _soar_seeds(session: Any, n: int) -> dict[str, str]:
    """A playbook, an execution waiting for approval (cancellable) and a pending approval."""
    name = f"rbac-pb-{n}"
    playbook = PlaybookModel(name=name, description="rbac", definition=_playbook_def(name))
    session.add(playbook)
    await session.flush()
    execution = PlaybookExecutionModel(
        playbook_id=playbook.id, playbook_name=playbook.name, playbook_version=1, status="awaiting_approval"
    )
    approval = HumanApprovalModel(
        action_type="notify", action_params={"message": "rbac"}, requested_by="rbac", ttl_seconds=600,
        expires_at=utcnow() + timedelta(minutes=10),
    )  # fmt: skip
    rule = AutomationRuleModel(name=f"rbac rule {n}", action="create_case")
    session.add_all([execution, approval, rule])
    await session.flush()
    ids = {"playbook_id": playbook.id, "execution_id": execution.id, "approval_id": approval.id}
    ids["automation_rule_id"] = rule.id
    proposed = [{"action": "isolate_endpoint", "target": "rbac-host", "requires_approval": True}]
    investigation = InvestigationModel(task_id=f"rbac-{n}", agent="orchestrator", prompt="rbac",
                                       requested_by="rbac", status="completed",
                                       result={"proposed_actions": proposed})  # fmt: skip
    session.add(investigation)
    await session.flush()
    ids["investigation_id"] = investigation.id
    return {key: str(value) for key, value in ids.items()}


async def _siem_seeds(session: Any, n: int, owner: str) -> dict[str, str]:
    """A log, a log source and a hunt owned by the caller (only owners edit hunts)."""
    log = SiemLogModel(source="rbac", format="line", message=f"rbac log {n}")
    source = LogSourceModel(name=f"rbac-source-{n}", kind="http")
    hunt = SiemHuntModel(name=f"rbac hunt {n}", query="rbac", created_by=owner)
    session.add_all([log, source, hunt])
    await session.flush()
    return {"log_id": str(log.id), "source_id": str(source.id), "hunt_id": str(hunt.id)}


async def _cps_seeds(session: Any, n: int) -> dict[str, str]:
    """A verified (trusted) device, a conduit and a badge."""
    from aurorasoc.core.models import AccessBadgeModel, CPSConduitModel, CPSDeviceModel

    device = CPSDeviceModel(device_id=f"rbac-dev-{n}", name="rbac device", device_type="door_controller",
                            attestation_status="verified", trusted=True)  # fmt: skip
    conduit = CPSConduitModel(name=f"rbac conduit {n}", from_zone_id="a", to_zone_id="b")
    badge = AccessBadgeModel(badge_id=f"rbac-badge-{n}", holder="rbac")
    session.add_all([device, conduit, badge])
    await session.flush()
    return {"device_id": device.device_id, "conduit_id": str(conduit.id), "badge_id": badge.badge_id}


async def _firmware_seeds(session: Any, n: int, device_id: str) -> dict[str, str]:
    """A bundle for the seeded device's type, a draft rollout (to start) and a running one."""
    from aurorasoc.core.models import FirmwareBundleModel, FirmwareRolloutModel

    bundle = FirmwareBundleModel(version=f"rbac-{n}", target_device_type="door_controller", sha256="ab" * 32,
                                 signature_valid=True, size=1)  # fmt: skip
    session.add(bundle)
    await session.flush()
    draft = FirmwareRolloutModel(bundle_id=bundle.id, target_devices=[device_id])
    running = FirmwareRolloutModel(bundle_id=bundle.id, target_devices=[device_id], stage=5, status="running",
                                   stage_started_at=utcnow())  # fmt: skip
    session.add_all([draft, running])
    await session.flush()
    return {"bundle_id": str(bundle.id), "rollout_id": str(running.id), "draft_rollout_id": str(draft.id)}


def _pack_version(name: str, version: int, m: int, *, current: bool = True) -> RulePackModel:
    """One stored version of a rule pack holding the single rule ``_sigma(m)``."""
    row = RulePackModel(name=name, version=version, current=current, source="rbac", sha256="cd" * 32,
                        rule_count=1, compiled=1, statuses=["stable", "test"], min_level="low",
                        rules={_sigma_uid(m): _sigma(m)})  # fmt: skip
    return row


def _sigma_uid(n: int) -> str:
    return f"6f0c5b3e-0000-4000-8000-{n:012d}"


def _sigma(n: int) -> str:
    return (
        f"title: rbac rule {n}\nid: {_sigma_uid(n)}\nlogsource: {{product: windows}}\n"
        "detection: {sel: {EventID: 4625}, condition: sel}\n"
    )


def path_params(spec: RouteSpec, seeds: Seeds) -> dict[str, str]:
    by_name = {"case_id": seeds.case_id, "username": seeds.username, "key_id": seeds.key_id, "tid": "T1059"}
    by_name["rule_id"] = seeds.rule_id
    by_name["report_id"] = seeds.report_id
    by_name["agent_name"] = "security_analyst"
    by_name["ioc_id"] = seeds.ioc_id
    by_name["attack_id"] = seeds.network_attack_id
    by_name["feed_id"] = seeds.intel_feed_id
    by_name["evidence_id"] = seeds.evidence_id
    by_name["exception_id"] = seeds.tuning["exception_id"]
    by_name["name"] = seeds.tuning["name"]  # rule pack
    # promote / case-link need an alert that is not in a case yet
    alert = seeds.free_alert_id if spec.path.endswith(("/promote", "/case-link")) else seeds.alert_id
    if "/from-alert/" in spec.path:  # suppress similar needs an alert a Sigma rule raised on a stored event
        alert = seeds.tuning["sigma_alert_id"]
    rollout = seeds.firmware["draft_rollout_id" if spec.path.endswith("/start") else "rollout_id"]
    return {**by_name, **seeds.siem, **seeds.soar, **seeds.cps, "alert_id": alert, "rollout_id": rollout}


def body_for(spec: RouteSpec, seeds: Seeds) -> Any:
    n = next(_counter)
    bodies: dict[str, Any] = {
        "PUT /api/v1/system/mode": {"mode": "real"},
        "POST /api/v1/auth/api-keys": {"service_name": f"rbac-{n}"},
        "PUT /api/v1/users/me/password": {"current_password": PASSWORD, "new_password": PASSWORD},
        "POST /api/v1/users": {"username": f"new-user-{n}", "password": PASSWORD, "role": "viewer"},
        "PATCH /api/v1/users/{username}": {"display_name": "Renamed"},
        "POST /api/v1/alerts": {"title": f"rbac post {n}", "source": "rbac", "severity": "low"},
        "POST /api/v1/alerts/batch": {"alerts": [{"title": f"rbac batch {n}", "source": "rbac"}]},
        "PATCH /api/v1/alerts/{alert_id}": {"status": "triaged"},
        "POST /api/v1/alerts/bulk": {"alert_ids": [seeds.alert_id], "action": "escalate"},
        "POST /api/v1/alerts/{alert_id}/promote": {},
        "POST /api/v1/alerts/{alert_id}/case-link": {"case_id": seeds.case_id},
        "POST /api/v1/cases": {"title": f"rbac case post {n}", "severity": "low"},
        "PATCH /api/v1/cases/{case_id}": {"title": "Renamed case"},
        "POST /api/v1/cases/{case_id}/comments": {"text": "checked"},
        "POST /api/v1/cases/{case_id}/assign": {"assigned_to": "analyst"},
        "POST /api/v1/cases/{case_id}/close": {"resolution_notes": "done"},
        "POST /api/v1/cases/{case_id}/alerts/{alert_id}/detach": None,
        "POST /api/v1/cases/{case_id}/evidence": {
            "files": {"file": (f"rbac-{n}.log", b"rbac evidence %d\n" % n, "text/plain")},
            "data": {"kind": "log"},
        },
        "POST /api/v1/reports/generate": {"case_id": seeds.case_id, "report_type": "technical"},
        "POST /api/v1/siem/ingest": {"message": f"rbac ingest {n}"},  # raw body: a JSON object is one event
        "POST /api/v1/detections/rules": {"yaml": _sigma(1_000_000 + n)},
        "PATCH /api/v1/detections/rules/{rule_id}": {"enabled": False},
        "POST /api/v1/detections/rules/test": {"yaml": _sigma(n), "events": [{"EventID": 4625}]},
        "POST /api/v1/detections/packs/update": {"source": UNREACHABLE_ARCHIVE, "name": f"rbac-up-{n}"},
        "POST /api/v1/detections/packs/{name}/rollback": None,
        "PUT /api/v1/detections/packs/{name}/policy": {"statuses": ["stable"], "min_level": "medium"},
        "POST /api/v1/detections/exceptions": {
            "rule_uid": seeds.tuning["rule_uid"],
            "conditions": {"EventID": 4625},
            "host": f"rbac-host-{n}",
            "reason": "rbac",
        },
        "POST /api/v1/detections/exceptions/from-alert/{alert_id}": {"reason": "rbac: expected on this host"},
        "POST /api/v1/siem/logs/{log_id}/promote": {"rule_id": "rbac"},
        "POST /api/v1/siem/sources": {"name": f"rbac-new-source-{n}", "kind": "http"},
        "PATCH /api/v1/siem/sources/{source_id}": {"enabled": False},
        "POST /api/v1/siem/hunts": {"name": f"rbac hunt post {n}", "query": "host:rbac-*"},
        "POST /api/v1/siem/ask": {"question": "what ran on rbac-host?"},
        "POST /api/v1/siem/ask/build": {"conditions": [{"field": "host", "value": "rbac-host"}]},
        "PATCH /api/v1/siem/hunts/{hunt_id}": {"sharing_mode": "team"},
        "POST /api/v1/siem/hunts/{hunt_id}/run": None,
        "POST /api/v1/playbooks": _playbook_def(f"rbac-new-pb-{n}"),
        "PUT /api/v1/playbooks/{playbook_id}": _playbook_def(f"rbac-put-pb-{n}"),
        "POST /api/v1/playbooks/validate": _playbook_def(f"rbac-check-pb-{n}"),
        "POST /api/v1/playbooks/{playbook_id}/execute": {"alert_id": seeds.alert_id},
        "POST /api/v1/executions/{execution_id}/cancel": None,
        "POST /api/v1/approvals/{approval_id}/approve": {"comment": "ok"},
        "POST /api/v1/approvals/{approval_id}/reject": {"comment": "not now"},
        "POST /api/v1/automation-rules": {"name": f"rbac rule {n}", "action": "create_case"},
        "PATCH /api/v1/automation-rules/{automation_rule_id}": {"enabled": False},
        "POST /api/v1/alerts/{alert_id}/investigate": {},
        "POST /api/v1/orchestrator/dispatch": {"agent": "threat_intel", "prompt": "rbac"},
        "POST /api/v1/investigations/{investigation_id}/override": {"status": "completed", "note": "rbac"},
        "POST /api/v1/investigations/{investigation_id}/proposals": {
            "action": "isolate_endpoint",
            "target": "rbac-host",
        },
        "POST /api/v1/cps/devices": {
            "device_id": f"rbac-new-dev-{n}",
            "device_type": "valve",
            "name": "v",
            "firmware_stack": "zephyr",
        },
        "PATCH /api/v1/cps/devices/{device_id}": {"location": "hall"},
        "POST /api/v1/cps/devices/{device_id}/attest": None,
        "POST /api/v1/cps/devices/{device_id}/command": {"command": "keepalive"},
        "POST /api/v1/cps/devices/{device_id}/revoke": None,
        "POST /api/v1/cps/devices/{device_id}/approve": None,
        "POST /api/v1/cps/devices/{device_id}/enrollment-token": None,
        "POST /api/v1/cps/zones": {"name": f"rbac zone {n}", "security_level": "SL2"},
        "POST /api/v1/cps/conduits": {"name": f"rbac conduit {n}", "from_zone_id": "a", "to_zone_id": "b"},
        "POST /api/v1/cps/conduits/{conduit_id}/isolate": None,
        "POST /api/v1/cps/badges": {"badge_id": f"rbac-badge-post-{n}", "holder": "h"},
        "PATCH /api/v1/cps/badges/{badge_id}": {"enabled": False},
        "POST /api/v1/iocs": {"type": "domain", "value": f"rbac-post-{n}.example.com"},
        "PATCH /api/v1/iocs/{ioc_id}": {"tags": ["rbac"]},
        "POST /api/v1/iocs/lookup": {"value": "203.0.113.9"},
        "POST /api/v1/observables/promote": {"value": f"rbac-promoted-{n}.example.com"},
        "POST /api/v1/observables/allowlist": {"kind": "value", "value": f"rbac-allowed-{n}.example.com"},
        "POST /api/v1/iocs/{ioc_id}/share": None,
        "POST /api/v1/intel/feeds": {
            "name": f"rbac-new-feed-{n}",
            "kind": "text",
            "url": "https://feeds.invalid/list.txt",
            "refresh_now": False,
        },
        "POST /api/v1/intel/feeds/{feed_id}/refresh": None,
        "POST /api/v1/network/attacks/{attack_id}/case": None,
        "POST /api/v1/network/attacks/{attack_id}/dispatch": {"priority": 3},
        "POST /api/v1/network-analyzer/analyze": {"query": "src_ip:10.0.0.23", "time_range": "1h"},
        "POST /api/v1/firmware/bundles": FIRMWARE_SIGNER.upload(
            f"rbac-up-{n}", "valve", b"rbac firmware %d" % n
        ),
        "POST /api/v1/firmware/rollouts": {"bundle_id": seeds.firmware["bundle_id"]},
        "POST /api/v1/firmware/rollouts/{rollout_id}/start": None,
        "POST /api/v1/firmware/rollouts/{rollout_id}/advance": None,
        "POST /api/v1/firmware/rollouts/{rollout_id}/pause": {"reason": "rbac"},
        "POST /api/v1/firmware/rollouts/{rollout_id}/rollback": None,
    }
    if spec.method in {"GET", "DELETE"} or spec.path.endswith(("/acknowledge", "/logout")):
        return bodies.get(spec.id)
    assert spec.id in bodies, f"add a valid request body for {spec.id} to tests/test_api_rbac.py"
    return bodies[spec.id]


def request_kwargs(spec: RouteSpec, seeds: Seeds) -> dict[str, Any]:
    body = body_for(spec, seeds)
    return body if spec.id in MULTIPART else {"json": body}


# Routes that pass the permission check but then need a service this test does not configure:
# an allowed role gets this status and error code (the routes' own tests cover success).
NEEDS_SERVICE = {
    "POST /api/v1/iocs/{ioc_id}/share": (409, "sharing_unavailable"),  # NATS JetStream
    "POST /api/v1/detections/packs/update": (400, "archive_unreachable"),  # fetches UNREACHABLE_ARCHIVE
}

PUBLIC_ROUTES = [r for r in ROUTES if not r.authenticated]
PROTECTED_ROUTES = [r for r in ROUTES if r.authenticated]


class TestRouteInventory:
    def test_no_two_routes_claim_the_same_method_and_path(self):
        """The first registered would silently shadow the other (it happened to case evidence)."""
        ids = [r.id for r in ROUTES]
        assert sorted({i for i in ids if ids.count(i) > 1}) == []

    def test_every_protected_api_route_names_a_permission_or_is_self_service(self):
        self_service = {
            "GET /api/v1/system/mode",
            "GET /api/v1/system/status",  # spec §10: any authenticated principal
            "GET /api/v1/users/me",
            "PUT /api/v1/users/me/password",
            "POST /api/v1/auth/logout",
            "GET /api/v1/attack/techniques/{tid}",
            "GET /api/v1/attack/search",
        }
        unguarded = [r.id for r in PROTECTED_ROUTES if not r.required and r.id not in self_service]
        assert unguarded == []

    def test_only_documented_routes_are_public(self):
        public = {r.id for r in PUBLIC_ROUTES if r.path.startswith("/api/")}
        assert public <= {
            "GET /api/v1/auth/providers",
            "POST /api/v1/auth/token",
            "GET /api/v1/auth/oidc/login",
            "GET /api/v1/auth/oidc/callback",
            "GET /api/v1/auth/oidc/logout",  # only a redirect to the provider's end-session page
            "POST /api/v1/cps/enroll",  # the one-time enrolment token is the credential (spec §10)
            "GET /api/v1/docs",  # Swagger UI and ReDoc pages (served locally): public on purpose
            "GET /api/v1/redoc",
        }

    def test_openapi_summaries_name_the_permission(self):
        schema = create_app().openapi()
        for spec in ROUTES:
            operation = schema["paths"].get(spec.path, {}).get(spec.method.lower())
            if operation is None:  # excluded from the schema (e.g. the landing page)
                continue
            text = f"{operation.get('summary', '')} {operation.get('description', '')}"
            for permission in spec.required:
                assert permission in text, f"{spec.id} does not name {permission} in its OpenAPI summary"
            assert operation.get("tags"), f"{spec.id} has no tag"


SAFE_METHODS = {"GET", "HEAD"}


def _owner_bound(spec: RouteSpec) -> bool:
    """Hunts answer their owner only: each role needs seeds it owns."""
    return "{hunt_id}" in spec.path


async def _call(client: Any, spec: RouteSpec, seeds: Seeds, headers: dict[str, str]) -> Any:
    url = spec.path.format(**path_params(spec, seeds))
    return await client.request(spec.method, url, **request_kwargs(spec, seeds), headers=headers)


@pytest.mark.parametrize("spec", PROTECTED_ROUTES, ids=lambda s: s.id)
async def test_route_answers_by_role(spec: RouteSpec, client, role_headers):
    """Every role, then no credentials, against one route.

    Building seeds is most of this test's cost, so roles share them until a request could have
    changed them: a refused request (403, 401) changes nothing, nor does an allowed read; after an
    allowed write the next role gets fresh seeds, so each request still meets untouched data.
    """
    outcomes: dict[str, int] = {}
    seeds: Seeds | None = None
    for role in Role:
        if seeds is None or _owner_bound(spec):
            seeds = await make_seeds(role.value)
        resp = await _call(client, spec, seeds, role_headers[role.value])
        outcomes[role.value] = resp.status_code
        if expected_status(spec, role) == "forbidden":
            assert resp.status_code == 403, (role, resp.text)
            continue
        if spec.id in NEEDS_SERVICE:
            status, code = NEEDS_SERVICE[spec.id]
            assert resp.status_code == status and resp.json()["detail"]["code"] == code, (role, resp.text)
        else:
            assert 200 <= resp.status_code < 300, (role, resp.status_code, resp.text)
        if spec.method not in SAFE_METHODS:
            seeds = None
    anonymous = await _call(client, spec, seeds or await make_seeds(), {})
    assert anonymous.status_code == 401, outcomes


def test_discovery_found_the_api():
    ids = {r.id for r in ROUTES}
    assert {"GET /api/v1/alerts", "POST /api/v1/auth/token", "PATCH /api/v1/cases/{case_id}"} <= ids
