"""The error answers every operation can give, declared in the OpenAPI document (issue 18);
and OpenAPI links from each creation to the operations on the created item, so stateful
clients (schemathesis ``--stateful=links``) can chain create → read/patch/delete.

Routes declare their success answer and their own special cases (``responses=`` on the route);
the refusals that come from shared layers - authentication and permissions, validation, the
runtime mode, rate limiting, the database being down - are added here to every operation they
apply to, so clients (and schemathesis) see no undocumented status code. 500 is deliberately
never declared: a 500 is a bug.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA = {
    "title": "ErrorResponse",
    "type": "object",
    "description": 'Every error body: {"detail": str | {"code", "message", ...} | [validation errors]}.',
    "properties": {"detail": {"title": "Detail"}},
    "required": ["detail"],
}
_ALWAYS = {
    "400": "Invalid input (the detail names the reason)",
    "429": "Rate limited; retry after the Retry-After header",
    "503": "A dependency (usually the database) is unavailable",
}
_AUTHENTICATED = {
    "401": "Not authenticated, or the token/API key is invalid, expired or revoked",
    "403": "Missing permission, or a cross-site cookie write",
}
_WRITES = {
    "409": "Conflicts with the current state or the runtime mode blocks the change",
    "413": "Request body too large",
}
_WITH_INPUT = {"404": "Not found", "422": "Request validation failed"}


def _codes_for(method: str, path: str, operation: dict[str, Any]) -> dict[str, str]:
    codes = dict(_ALWAYS)
    if "public" not in operation.get("summary", "").lower():
        codes |= _AUTHENTICATED
    if method != "get":
        codes |= _WRITES
    if "{" in path or operation.get("parameters") or operation.get("requestBody"):
        codes |= _WITH_INPUT
    return codes


def add_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the shared error answers on every operation of ``schema`` (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorResponse"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in _codes_for(method, path, operation).items():
                operation["responses"].setdefault(code, {"description": description, "content": ref})
    return schema


def _fields(schema: dict[str, Any], response: dict[str, Any]) -> set[str]:
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    if ref := body.get("$ref"):
        body = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return set(body.get("properties", {}))


def add_item_links(schema: dict[str, Any]) -> dict[str, Any]:
    """``POST /x`` answering an object links to every operation on ``/x/{param}``, the parameter
    taken from the created object's field of that name, else its ``id``."""
    paths = schema.get("paths", {})
    for path, item in paths.items():
        create = item.get("post")
        if not isinstance(create, dict):
            continue
        code = next((c for c in ("201", "200") if c in create.get("responses", {})), None)
        fields = _fields(schema, create["responses"][code]) if code else set()
        for sub, sub_item in paths.items():
            rest = sub.removeprefix(path + "/")
            if sub == rest or "/" in rest or not (rest.startswith("{") and rest.endswith("}")):
                continue
            param = rest[1:-1]
            field = param if param in fields else "id" if "id" in fields else None
            if code is None or field is None:
                continue
            links = create["responses"][code].setdefault("links", {})
            for method, operation in sub_item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    links[f"{method.upper()} {sub}"] = {
                        "operationId": operation["operationId"],
                        "parameters": {param: f"$response.body#/{field}"},
                    }
    return schema


def install_error_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with the shared error answers declared."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_item_links(add_error_responses(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
