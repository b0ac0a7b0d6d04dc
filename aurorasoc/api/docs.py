"""API documentation served from this process: Swagger UI and ReDoc without any CDN.

The Swagger UI and ReDoc bundles come from the ``fastapi-offline`` wheel's static folder, so
``/api/v1/docs`` and ``/api/v1/redoc`` (also ``/redoc``) work on an air-gapped SOC network.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/api/v1/docs-assets"
# The docs pages carry one inline bootstrap script and ReDoc injects styles and a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


def install_docs(app: FastAPI, prefix: str) -> None:
    """Swagger UI at ``<prefix>/docs``, ReDoc at ``<prefix>/redoc`` and ``/redoc``, assets local.

    The page handlers close over the title, never ``app``: FastAPI keeps every dependency call in
    process-wide caches (4096 entries), so a handler holding ``app`` kept each discarded app and
    all its routes alive (the test suite, which builds an app per test, grew to 1 GB).
    """
    openapi_url = app.openapi_url or f"{prefix}/openapi.json"
    title = app.title
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get(f"{prefix}/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc_shortcut() -> RedirectResponse:
        return RedirectResponse(f"{prefix}/redoc")
