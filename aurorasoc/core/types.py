"""Column types and expressions that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back tz-aware UTC, even on SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        stamp: datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Unindexed(ColumnElement[Any]):
    """A column that SQLite's planner may not look rows up by (SQLite's documented unary ``+``).

    Without statistics (SQLite is never analysed here) the planner takes any indexed equality for
    a few rows: ``id IN (50 ids) AND case_id IS NULL`` read every un-cased alert through the
    ``case_id`` index (~1 s at 1M alerts) instead of 50 primary-key look-ups. PostgreSQL, which
    keeps statistics, gets the column as it is.
    """

    inherit_cache = True
    # The column is part of the statement's cache key: without it SQLAlchemy found no key for a
    # statement using this element ("[no key]" in its log) and compiled that statement every time.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any]) -> None:
        self.column = column.expression if isinstance(column, QueryableAttribute) else column
        self.type = self.column.type


class PostgresOnly(ColumnElement[Any]):
    """SQL that exists on PostgreSQL only, NULL elsewhere: the expression of a generated column
    (a stored ``tsvector``) that SQLite leaves to FTS5 but keeps as a virtual NULL column, so the
    model is one on both databases."""

    inherit_cache = False  # used in DDL only; the SQL text is the element's identity

    def __init__(self, sql: str) -> None:
        self.sql = sql


@compiles(PostgresOnly, "postgresql")
def _postgres_only(element: PostgresOnly, _compiler: SQLCompiler, **_kw: Any) -> str:
    return element.sql


@compiles(PostgresOnly)
def _postgres_only_elsewhere(_element: PostgresOnly, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "NULL"


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))
