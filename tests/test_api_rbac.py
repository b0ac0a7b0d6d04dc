"""Every HTTP route x every role: 2xx, 403 or 401, derived from ROLE_PERMISSIONS alone.

Routes and the permissions they require are discovered from the application's dependency tree
(``require_permission`` marks its dependency with ``required_permissions``), so a new route is
covered automatically; the only per-route data here is how to build a *valid* request for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from aurorasoc.api.main import create_app
from aurorasoc.core.api_keys import generate_api_key, hash_api_key
from aurorasoc.core.auth import ROLE_PERMISSIONS, get_principal
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, ApiKeyModel, CaseModel, UserModel
from aurorasoc.core.rbac import missing_permissions
from aurorasoc.models.domain import Role

PASSWORD = "correct horse battery staple"  # tests/conftest.py TEST_PASSWORD
_counter = itertools.count()


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


async def make_seeds() -> Seeds:
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
        session.add_all([alert, free, user, key])
        await session.flush()
        return Seeds(str(alert.id), str(free.id), str(case.id), user.username, str(key.id))


def path_params(spec: RouteSpec, seeds: Seeds) -> dict[str, str]:
    by_name = {"case_id": seeds.case_id, "username": seeds.username, "key_id": seeds.key_id}
    # promote / case-link need an alert that is not in a case yet
    alert = seeds.free_alert_id if spec.path.endswith(("/promote", "/case-link")) else seeds.alert_id
    return {**by_name, "alert_id": alert}


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
    }
    if spec.method in {"GET", "DELETE"} or spec.path.endswith(("/acknowledge", "/logout")):
        return bodies.get(spec.id)
    assert spec.id in bodies, f"add a valid request body for {spec.id} to tests/test_api_rbac.py"
    return bodies[spec.id]


PUBLIC_ROUTES = [r for r in ROUTES if not r.authenticated]
PROTECTED_ROUTES = [r for r in ROUTES if r.authenticated]


class TestRouteInventory:
    def test_every_protected_api_route_names_a_permission_or_is_self_service(self):
        self_service = {
            "GET /api/v1/system/mode",
            "GET /api/v1/users/me",
            "PUT /api/v1/users/me/password",
            "POST /api/v1/auth/logout",
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


@pytest.mark.parametrize("spec", PROTECTED_ROUTES, ids=lambda s: s.id)
async def test_route_answers_by_role(spec: RouteSpec, client, role_headers):
    outcomes = {}
    for role in Role:
        seeds = await make_seeds()
        url = spec.path.format(**path_params(spec, seeds))
        resp = await client.request(
            spec.method, url, json=body_for(spec, seeds), headers=role_headers[role.value]
        )
        outcomes[role.value] = resp.status_code
        if expected_status(spec, role) == "forbidden":
            assert resp.status_code == 403, (role, resp.text)
        else:
            assert 200 <= resp.status_code < 300, (role, resp.status_code, resp.text)
    seeds = await make_seeds()
    anonymous = await client.request(
        spec.method, spec.path.format(**path_params(spec, seeds)), json=body_for(spec, seeds)
    )
    assert anonymous.status_code == 401, outcomes


def test_discovery_found_the_api():
    ids = {r.id for r in ROUTES}
    assert {"GET /api/v1/alerts", "POST /api/v1/auth/token", "PATCH /api/v1/cases/{case_id}"} <= ids
