"""Executemany of hot-path textual statements, their rows' values converted in one tight loop.

SQLAlchemy builds each row of an executemany through its general parameter machinery (~28 us a
row); an alert batch of 500 writes ~1,800 such rows (IOC upserts, alert-IOC links and their event
times), which cost a quarter of the batch's CPU. Here a statement is compiled once per dialect and
each row's values go through the same bind processors of the same types, straight to the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession


def typed_text(table: Table, names: Sequence[str], sql: str) -> TextClause:
    """``sql`` with each named parameter typed as ``table``'s column of that name, so UUIDs, JSON
    and UTC times are stored as the ORM stores them."""
    columns = table.columns
    return text(sql).bindparams(*(bindparam(n, type_=columns[n].type) for n in names))


def insert_rows(table: Table, names: Sequence[str]) -> TextClause:
    """A typed ``INSERT`` of one row of ``names`` into ``table``, for :func:`execute_many`."""
    placeholders = ", ".join(f":{n}" for n in names)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"  # noqa: S608 (our names)
    return typed_text(table, names, sql)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per positional placeholder, in order: the row key it takes and its type's bind processor.
    pairs: tuple[tuple[str, Callable[[Any], Any] | None], ...]


_COMPILED: dict[tuple[int, str], tuple[TextClause, _Compiled]] = {}


def _compiled(clause: TextClause, dialect: Dialect) -> _Compiled:
    key = (id(clause), dialect.name)
    if (found := _COMPILED.get(key)) is not None and found[0] is clause:
        return found[1]
    compiled = clause.compile(dialect=dialect)
    names = compiled.positiontup or ()  # SQLite's and asyncpg's paramstyles are positional
    made = _Compiled(
        compiled.string, tuple((n, compiled.binds[n].type._cached_bind_processor(dialect)) for n in names)
    )
    _COMPILED[key] = (clause, made)  # the clause is kept: its id stays its own
    return made


async def execute_many(session: AsyncSession, clause: TextClause, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``clause`` once per row, in the session's transaction (what ``session.execute(clause,
    rows)`` does, the values converted by the same types). ``clause`` must be long-lived (cached):
    its compiled form is kept per dialect."""
    if not rows:
        return
    connection = await session.connection()
    compiled = _compiled(clause, connection.dialect)
    values = [
        tuple(row[name] if process is None else process(row[name]) for name, process in compiled.pairs)
        for row in rows
    ]
    await connection.exec_driver_sql(compiled.sql, values)
