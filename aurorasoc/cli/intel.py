"""``aurorasoc intel``: indicator feeds (add, list, refresh, remove) and ATT&CK Navigator layers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from aurorasoc.cli.common import CLI_ACTOR, console, ensure_schema, fail, run
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.types import utcnow
from aurorasoc.detection.coverage import AlertScope, LayerSource, coverage, navigator_layer
from aurorasoc.intel.feeds import FeedRefused, FeedSpec, IntelFeedService, refresh_due_feeds

app = typer.Typer(help="Threat-intel feeds and ATT&CK coverage.", no_args_is_help=True)
feeds = typer.Typer(
    help="Indicator feeds: STIX 2.1 bundles, MISP feeds, CSV and text lists.", no_args_is_help=True
)
app.add_typer(feeds, name="feeds")


@feeds.command("add")
def add(
    name: str = typer.Argument(..., help="Feed name (letters, digits, . _ -)"),
    kind: str = typer.Argument(..., help="stix, misp, csv or text"),
    url: str = typer.Argument(..., help="http(s) URL or a local path (MISP: the feed's base URL/folder)"),
    tlp: str = typer.Option("amber", help="TLP for indicators that carry none"),
    confidence: float = typer.Option(0.5, min=0.0, max=1.0, help="Confidence for indicators that carry none"),
    expiry_days: int = typer.Option(30, min=1, help="Expiry for indicators that carry none"),
    refresh_minutes: int = typer.Option(60, min=1, help="Scheduled refresh interval"),
    csv_column: str | None = typer.Option(None, help="CSV header of the indicator column"),
) -> None:
    """Subscribe to a feed and import it once. Exit 1 when the feed is refused (it stays subscribed)."""
    ensure_schema()
    spec = FeedSpec(name, kind, url, tlp, confidence, expiry_days, refresh_minutes, csv_column)

    async def _add() -> tuple[int, str | None]:
        async with get_session_factory()() as session:
            service = IntelFeedService(session)
            feed = await service.subscribe(spec, actor=CLI_ACTOR, import_now=True, allow_files=True)
            return feed.indicator_count, feed.last_error

    count, refused = run(_add)
    if refused:
        fail(refused)
    console.print(f"feed {name}: {count} indicators imported")


@feeds.command("list")
def list_feeds() -> None:
    """Feeds with their last refresh and indicator count."""
    ensure_schema()

    async def _list() -> list[tuple[str, ...]]:
        async with get_session_factory()() as session:
            return [
                (f.name, f.kind, f.url, f.tlp, str(f.indicator_count), f.last_status, f.last_error or "")
                for f in await IntelFeedService(session).list()
            ]

    table = Table("name", "kind", "url", "tlp", "indicators", "status", "error")
    for row in run(_list):
        table.add_row(*row)
    console.print(table)


@feeds.command("refresh")
def refresh(
    name: str | None = typer.Argument(None, help="One feed now; without it, every feed that is due"),
) -> None:
    """Refresh one feed now, or run the scheduled job once. Exit 1 when a feed is refused."""
    ensure_schema()

    async def _refresh() -> dict[str, str]:
        async with get_session_factory()() as session:
            if name is None:
                return await refresh_due_feeds(session, utcnow())
            service = IntelFeedService(session)
            feed = await service.by_name(name)
            try:
                await service.refresh_now(feed.id, actor=CLI_ACTOR)
            except FeedRefused as exc:
                return {name: f"refused: {exc.message}"}
            return {name: f"ok: {feed.indicator_count} indicators"}

    outcomes = run(_refresh)
    for feed_name, outcome in outcomes.items():
        console.print(f"{feed_name}: {outcome}", highlight=False)
    if any(outcome.startswith("refused") for outcome in outcomes.values()):
        fail("some feeds were refused; their previous indicators stay")


@feeds.command("remove")
def remove(name: str = typer.Argument(...)) -> None:
    """Unsubscribe; the feed's indicators stop matching."""
    ensure_schema()

    async def _remove() -> None:
        async with get_session_factory()() as session:
            service = IntelFeedService(session)
            await service.unsubscribe((await service.by_name(name)).id, actor=CLI_ACTOR)

    run(_remove)
    console.print(f"feed {name} removed")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@app.command("layer")
def layer(
    source: str = typer.Option("rules", help="rules: enabled rule coverage; alerts: techniques observed"),
    since: datetime | None = typer.Option(None, help="Alerts created at or after (ISO 8601)"),
    until: datetime | None = typer.Option(None, help="Alerts created before (ISO 8601)"),
    case_id: uuid.UUID | None = typer.Option(None, "--case", help="Only the alerts of this case"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout"),
) -> None:
    """Export an ATT&CK Navigator layer (format 4.5) of enabled rules or of observed alerts."""
    if source not in ("rules", "alerts"):
        fail(f"unknown --source {source!r}; rules or alerts", code=2)
    ensure_schema()
    scope = AlertScope(_utc(since), _utc(until), case_id)
    kind: LayerSource = "alerts" if source == "alerts" else "rules"

    async def _layer() -> dict[str, Any]:
        async with get_session_factory()() as session:
            return navigator_layer(await coverage(session, scope), kind, scope)

    text = json.dumps(run(_layer), indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        console.print(f"layer written to {output}")
