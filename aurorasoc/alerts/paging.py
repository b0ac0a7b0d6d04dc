"""Keyset pages and cheap totals for the alert queue (spec §28).

A cursor names the last row of a page by its sort key and id; the next page is the index range
after it, so a page 90 % deep costs what the first does, and alerts arriving meanwhile never shift
rows into a page twice or out of it. Totals are counted up to ``COUNT_CAP`` rows; past that the
answer is an estimate (PostgreSQL's planner, SQLite's row ids) flagged ``total_is_estimate``:
an exact ``COUNT(*)`` over a million rows per request was most of the queue's database time.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, Select, and_, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlalchemy.sql.util import ClauseAdapter

from aurorasoc.alerts.filters import SEVERITY_ORDER, AlertFilters
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.search import fts_count
from aurorasoc.core.errors import InvalidInput

COUNT_CAP = 10_000
ESTIMATE_PAST = 5 * COUNT_CAP  # PostgreSQL: a planner estimate this far past the cap skips the count
# A text search with more matches walks the queue's time order instead of sorting them all (SQLite);
# with fewer, PostgreSQL counts them while it sorts them.
FEW_MATCHES = 5_000
UNSURE_PAST = 10 * FEW_MATCHES  # PostgreSQL: text-search estimates below this are checked (expect_few)
TIME_SORTS = {"created_at", "last_seen_at"}


@dataclass(frozen=True)
class AlertListing:
    items: list[AlertModel]
    total: int
    total_is_estimate: bool
    next_cursor: str | None


def encode_cursor(filters: AlertFilters, alert: AlertModel) -> str:
    name = filters.sort.lstrip("-")
    key: Any = SEVERITY_ORDER.get(alert.severity, -1) if name == "severity" else getattr(alert, name)
    if isinstance(key, datetime):
        key = key.isoformat()
    raw = orjson.dumps([filters.sort, key, str(alert.id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def keyset(filters: AlertFilters, cursor: str) -> ColumnElement[bool]:
    """Rows after the cursor's row in ``filters``' order (the sort key, then ``id``)."""
    try:
        sort, key, last_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        last = uuid.UUID(last_id)
        if sort.lstrip("-") in TIME_SORTS:
            key = datetime.fromisoformat(key)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInput("'cursor' is not a cursor this endpoint returned") from None
    if sort != filters.sort:
        raise InvalidInput(f"'cursor' belongs to sort '{sort}', not '{filters.sort}'")
    column = filters.sort_key
    if filters.descending:
        return and_(column <= key, or_(column < key, AlertModel.id < last))
    return and_(column >= key, or_(column > key, AlertModel.id > last))


def page_query(
    filters: AlertFilters,
    dialect: str,
    *,
    skip: int = 0,
    limit: int = 50,
    cursor: str | None = None,
    many_matches: bool = False,
) -> Select[tuple[AlertModel]]:
    """The page's select: one row more than ``limit``, after ``cursor`` or past ``skip`` rows."""
    clauses = filters.clauses(dialect, many_matches=many_matches)
    page = select(AlertModel).where(*clauses).order_by(*filters.order_by()).limit(limit + 1)
    return page.where(keyset(filters, cursor)) if cursor else page.offset(skip)


def counted_page(filters: AlertFilters, *, skip: int, limit: int) -> Select[tuple[AlertModel, int]]:
    """PostgreSQL: the page with every match counted in the same pass (``count(*) OVER ()`` is taken
    before the offset and limit). Only for few matches, which are all read to be sorted anyway: a
    text search's candidates are checked again row by row, and counting them apart did it twice.

    The matches are a ``MATERIALIZED`` CTE, so they are found through the search indexes and then
    sorted: when the planner expected many it walked the time index instead, and the window
    function made that walk read every alert (4 s at 1M alerts).
    """
    matches = (
        select(AlertModel).where(*filters.clauses("postgresql")).cte("matches").prefix_with("MATERIALIZED")
    )
    adapt = ClauseAdapter(matches).traverse
    found = aliased(AlertModel, matches)
    order = [adapt(key) for key in filters.order_by()]
    return select(found, func.count().over()).order_by(*order).offset(skip).limit(limit + 1)


async def expect_few(session: AsyncSession, filters: AlertFilters) -> bool:
    """PostgreSQL: the planner expects at most ``FEW_MATCHES`` rows (one ``EXPLAIN``, two when unsure).

    A text search is a word match OR a substring match. The word match is estimated from word
    statistics; the substring match from whole sampled documents, so one sampled alert naming a
    host makes that host 1 % of the table: ``q=WS-0042`` was expected 11,858 times for 613 matches
    at 1M alerts, and walking the time order for them read 99,000 alerts (500 ms). Up to
    ``UNSURE_PAST`` the word match alone (the clauses with ``words_only``) decides.
    """
    expected = await _plan_rows(session, select(AlertModel.id).where(*filters.clauses("postgresql")))
    if expected <= FEW_MATCHES:
        return True
    if expected > UNSURE_PAST:
        return False
    words = filters.clauses("postgresql", words_only=True)
    return await _plan_rows(session, select(AlertModel.id).where(*words)) <= FEW_MATCHES


class Explain(Executable, ClauseElement):
    """The query plan of a select, keeping its bound parameters: PostgreSQL's ``EXPLAIN`` (JSON
    when ``as_json``), SQLite's ``EXPLAIN QUERY PLAN``."""

    inherit_cache = False

    def __init__(self, statement: Select[Any], *, as_json: bool = False) -> None:
        self.statement = statement
        self.as_json = as_json


def _plan_of(compiler: SQLCompiler, statement: Select[Any], **kw: Any) -> str:
    sql = compiler.process(statement, **kw)
    compiler._result_columns = []  # the rows are the plan's, not the select's: no type processing
    return sql


@compiles(Explain, "postgresql")
def _explain_pg(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    options = "(FORMAT JSON) " if element.as_json else ""
    return f"EXPLAIN {options}{_plan_of(compiler, element.statement, **kw)}"


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN QUERY PLAN " + _plan_of(compiler, element.statement, **kw)


async def count_alerts(
    session: AsyncSession, clauses: list[ColumnElement[bool]], *, text_only: str | None = None
) -> tuple[int, bool]:
    """(total, is_estimate): exact up to ``COUNT_CAP``, otherwise an estimate of at least that.

    ``text_only``: the filters are this text search alone, which SQLite counts in its full-text index.
    On PostgreSQL a filtered count the planner expects far past the cap is not taken: counting even
    the first 10,001 matches of a common word rechecked each row (180 ms at 1M alerts).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and clauses:
        estimate = await _postgres_estimate(session, clauses)
        if estimate > ESTIMATE_PAST:
            return estimate, True
    fts = fts_count(text_only, COUNT_CAP + 1) if text_only and dialect == "sqlite" else None
    if fts is None:
        fts = select(func.count()).select_from(
            select(AlertModel.id).where(*clauses).limit(COUNT_CAP + 1).subquery()
        )
    counted = await session.scalar(fts) or 0
    if counted <= COUNT_CAP:
        return counted, False
    if dialect == "postgresql":
        estimate = await _postgres_estimate(session, clauses)
    elif not clauses:
        # Row ids grow with every insert: the newest one bounds the row count from above.
        rowid = literal_column("alerts.rowid", Integer)
        newest: Select[tuple[int]] = select(func.max(rowid)).select_from(AlertModel)
        estimate = await session.scalar(newest) or 0
    else:
        estimate = 0  # no cheap estimate of a filtered count: say "more than COUNT_CAP"
    return max(estimate, counted), True


async def _plan_rows(session: AsyncSession, statement: Select[Any]) -> int:
    plan = await session.scalar(Explain(statement, as_json=True))
    return int((orjson.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


async def _postgres_estimate(session: AsyncSession, clauses: list[ColumnElement[bool]]) -> int:
    """The planner's row estimate, rescaled to the live row count the statistics collector keeps.

    The planner scales ``reltuples`` by the table's current size, so dead rows left by updates
    (correlation sets ``case_id`` on every alert) inflate it until a vacuum: 37,787 for 19,009
    alerts was seen. ``n_live_tup`` counts committed inserts and deletes as they happen.
    """
    live = await session.scalar(
        text("SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = to_regclass(:table)"),
        {"table": AlertModel.__tablename__},
    )
    whole = select(AlertModel.id)
    if not live:  # statistics off, or nothing committed yet: the planner's figure as it is
        return await _plan_rows(session, whole.where(*clauses))
    if not clauses:
        return int(live)
    rows, total = await _plan_rows(session, whole.where(*clauses)), await _plan_rows(session, whole)
    return round(rows * int(live) / total) if total else rows
