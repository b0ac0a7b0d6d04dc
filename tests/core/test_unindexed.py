"""``Unindexed``: SQLite's unary ``+`` around a column, cached by the column it wraps."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.engine.default import CACHE_HIT

from aurorasoc.core.types import Unindexed

TABLE = Table(
    "t", MetaData(), Column("id", Integer, primary_key=True), Column("a", String), Column("b", String)
)


def test_statements_are_cached_by_the_wrapped_column() -> None:
    """A statement is compiled once, and one wrapping another column is not served its SQL
    (without the column in the cache key, SQLAlchemy compiled every such statement anew)."""
    engine = create_engine("sqlite://")
    TABLE.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(TABLE), [{"a": "x", "b": None}, {"a": "y", "b": None}, {"a": None, "b": "z"}])
        results = [
            conn.execute(select(func.count()).select_from(TABLE).where(Unindexed(column).is_not(None)))
            for column in (TABLE.c.a, TABLE.c.b, TABLE.c.a)
        ]
        hits = [result.context.cache_hit is CACHE_HIT for result in results]  # type: ignore[attr-defined]
        assert [result.scalar() for result in results] == [2, 1, 2]
    assert hits == [False, False, True]


def test_sqlite_gets_the_unary_plus() -> None:
    sql = str(select(TABLE.c.id).where(Unindexed(TABLE.c.a) == "x").compile(create_engine("sqlite://")))
    assert "+t.a = " in sql
