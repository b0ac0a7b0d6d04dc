"""``core.web.routing.IndexedRouter``: a router skipped by substring checks routes exactly as before."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from aurorasoc.core.web.routing import IndexedRouter


def _app() -> tuple[FastAPI, IndexedRouter, IndexedRouter, IndexedRouter]:
    alerts = IndexedRouter(prefix="/alerts")
    cases = IndexedRouter(prefix="/cases")
    loose = IndexedRouter()  # a route that is all parameters: never skipped

    @alerts.get("")
    async def list_alerts() -> str:
        return "alerts"

    @alerts.get("/{alert_id}/cases")
    async def alert_cases(alert_id: int) -> str:
        return f"cases of alert {alert_id}"

    @cases.get("/{case_id}")
    async def one_case(case_id: int) -> str:
        return f"case {case_id}"

    @loose.get("/{anything}/echo")
    async def echo(anything: str) -> str:
        return anything

    app = FastAPI()
    for router in (alerts, cases, loose):
        app.include_router(router, prefix="/api")
    return app, alerts, cases, loose


def _scope(path: str) -> dict[str, object]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }


def test_requests_reach_the_same_routes() -> None:
    app, *_ = _app()
    client = TestClient(app)
    assert client.get("/api/alerts").json() == "alerts"
    assert client.get("/api/alerts/7/cases").json() == "cases of alert 7"
    assert client.get("/api/cases/3").json() == "case 3"
    assert client.get("/api/cases/echo").status_code == 422  # the cases route, as before: not an int
    assert client.get("/api/nothing/echo").json() == "nothing"
    assert client.get("/api/unknown").status_code == 404


def test_a_router_whose_literal_parts_are_absent_is_skipped() -> None:
    _, alerts, cases, loose = _app()
    assert alerts._route_heads() == ("/alerts", "/alerts/")
    assert alerts.matches(_scope("/api/cases/3")) == (Match.NONE, {})
    assert cases.matches(_scope("/api/alerts")) == (Match.NONE, {})
    assert loose._route_heads() == (), "a route with no literal head is never skipped"


def test_routes_added_later_are_indexed() -> None:
    app, alerts, *_ = _app()
    assert alerts.matches(_scope("/api/stats")) == (Match.NONE, {})

    @alerts.get("/stats", include_in_schema=False)
    async def stats() -> str:
        return "stats"

    assert "/alerts/stats" in alerts._route_heads()
    app.include_router(alerts, prefix="/v2")
    assert TestClient(app).get("/v2/alerts/stats").json() == "stats"
