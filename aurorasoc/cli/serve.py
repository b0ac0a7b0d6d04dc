"""``aurorasoc serve``: migrate, bootstrap the first admin, run the API."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from types import FrameType

import typer

from aurorasoc.access.users import UserService
from aurorasoc.api.main import create_app
from aurorasoc.cli.common import console, fail, first_line
from aurorasoc.cli.rule_packs import install_default_pack
from aurorasoc.cli.shutdown import arm_exit_deadline, skip_final_collection
from aurorasoc.core.auth import ensure_jwt_secret
from aurorasoc.core.config import Settings, get_settings, reset_settings
from aurorasoc.core.data_files import ensure_private_dir
from aurorasoc.core.db import DATABASE_ERRORS, dispose_engine, session_scope
from aurorasoc.core.heap import keep_long_lived
from aurorasoc.core.logging import configure_logging
from aurorasoc.core.migrate import upgrade
from aurorasoc.core.passwords import generate_password
from aurorasoc.core.vocabulary import Role
from aurorasoc.detection.rules import import_startup_rules

SignalHandler = Callable[[int, FrameType | None], None]


async def bootstrap_admin() -> str | None:
    """Create the first admin when ``users`` is empty; return the generated password, if any."""
    settings = get_settings()
    try:
        async with session_scope() as session:
            service = UserService(session)
            if await service.count():
                return None
            password = settings.auth.admin_password or generate_password(20)
            await service.create(
                settings.auth.admin_username, password, Role.ADMIN, display_name="Administrator"
            )
    finally:
        await dispose_engine()
    if settings.auth.admin_password:
        return None
    path = settings.secrets_dir / "initial_admin_password"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


async def bootstrap_rules() -> str:
    """Import the bundled pack and ``AURORA_SIGMA_RULE_PATHS`` (idempotent: unchanged rules untouched)."""
    try:
        async with session_scope() as session:
            report = await import_startup_rules(session, get_settings())
    finally:
        await dispose_engine()
    new, updated, bad = report.imported, report.updated, len(report.errors)
    return f"Sigma rules: {new} new, {updated} updated, {bad} files not Sigma"


def bootstrap_pack() -> str:
    """First start only: install the default pack (SigmaHQ) when the network allows, else say how.

    Offline the attempt costs at most ``AURORA_RULE_PACK_TIMEOUT_SECONDS`` (a connect timeout), once:
    a marker in the data directory records that the first start has been handled.
    """
    settings = get_settings()
    marker = settings.data_dir / "rule_pack_first_start"
    if not settings.detection.rule_pack_auto_install or marker.exists():
        return ""
    message = install_default_pack(settings)
    marker.write_text(message + "\n")
    return message


def _bootstrap(settings: Settings) -> None:
    """First admin (its generated password printed once) and the bundled Sigma rules."""
    password = asyncio.run(bootstrap_admin())
    if password:
        console.print(
            f"[bold yellow]First start:[/bold yellow] created admin user '{settings.auth.admin_username}' "
            f"with password [bold]{password}[/bold] "
            f"(also in {settings.secrets_dir / 'initial_admin_password'})"
        )
    console.print(asyncio.run(bootstrap_rules()), highlight=False)
    if pack_message := bootstrap_pack():
        console.print(pack_message, highlight=False)


def _prepare_database() -> bool:
    """Migrate; an unreachable database does not stop the API, which then starts degraded
    (503 ``database_unavailable``, ``/health/ready`` 503; dummy mode serves showcase data)."""
    try:
        upgrade()
    except DATABASE_ERRORS as exc:
        console.print(
            f"[bold yellow]Database unreachable[/bold yellow] ({first_line(exc)}): starting degraded; "
            "live data returns when the database does (restart to migrate)",
            highlight=False,
        )
        return False
    return True


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    mode: str | None = typer.Option(None, "--mode", help="dummy | dry_run | real (overrides AURORA_MODE)"),
    no_workers: bool = typer.Option(False, "--no-workers", help="API and WebSocket broadcasters only"),
) -> None:
    """Start the API (and, in the embedded default, its workers) on HOST:PORT."""
    import uvicorn

    if mode is not None:
        if mode not in {"dummy", "dry_run", "real"}:
            fail(f"unknown mode '{mode}' (choose from: dummy, dry_run, real)", 2)
        os.environ["AURORA_MODE"] = mode
        reset_settings()
    if no_workers:
        os.environ["AURORA_SCHEDULER_ENABLED"] = "false"
        reset_settings()
    settings = get_settings()
    ensure_private_dir(settings.data_dir)
    configure_logging(settings)
    ensure_jwt_secret(settings)
    if _prepare_database():
        _bootstrap(settings)
    console.print(f"AuroraSOC on http://{host}:{port}  (mode {settings.mode}, docs at /api/v1/docs)")
    # uvicorn drains requests and runs the shutdown lifespan, then re-raises the signal it caught;
    # these handlers turn that re-raise into a normal exit so supervisors see status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    config = uvicorn.Config(
        create_app(settings, workers=not no_workers),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # requests still running this long after SIGTERM are cancelled (uvicorn's default: wait forever)
        timeout_graceful_shutdown=settings.server.shutdown_grace_seconds,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    deadline = settings.server.shutdown_timeout_seconds
    server.handle_exit = _arming_deadline(server.handle_exit, deadline)  # type: ignore[method-assign,assignment]
    keep_long_lived()  # the app, its routes and models live as long as the process
    server.run()


def _arming_deadline(handle_exit: SignalHandler, seconds: float) -> SignalHandler:
    """uvicorn's signal handler, arming the hard shutdown deadline on the first signal."""

    def handle(sig: int, frame: FrameType | None) -> None:
        arm_exit_deadline(seconds)
        handle_exit(sig, frame)

    return handle


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    skip_final_collection()
    raise SystemExit(0)
