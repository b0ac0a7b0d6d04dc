"""Text and asset filters of the alert queue, compiled to the full-text indexes (spec §28).

``q`` is a list of words; every word must occur (as a word prefix) in the title, description or
entities. On SQLite that is an FTS5 query; on PostgreSQL a ``tsvector`` match, or a ``pg_trgm``
accelerated substring match for three characters or more (what ``ILIKE '%…%'`` used to give).
On SQLite a word that many alerts hold (``many``: the caller counted them) is filtered while the
queue walks its order, a rarer one read through the full-text index and sorted.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import type_coerce

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.alert_search import FTS_TABLE, PG_DOCUMENT

_TOKEN = re.compile(r"[^\W_]")  # a letter or digit: what the unicode61 tokeniser indexes
_TRIGRAM = 3  # pg_trgm needs three characters to use its index


def _fts_phrase(text: str) -> str:
    """One FTS5 string (quotes doubled, so the user's text is never query syntax)."""
    return '"' + text.replace('"', '""') + '"'


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_match(query: str, *, many: bool = False) -> ColumnElement[bool]:
    """``alerts.rowid IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH :query)``.

    With ``many`` the rowid is written ``+alerts.rowid`` (SQLite's way to keep a term from driving
    the look-up): the queue then walks its sort order's index and keeps the matching rows, instead
    of reading every match to sort them (62,000 rows, 300 ms, for a common word at 1M alerts).
    """
    matches: Select[tuple[Any]] = (
        select(literal_column("rowid"))
        .select_from(table(FTS_TABLE))
        .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("alerts_fts_query", query, type_=String)))
    )
    return literal_column("+alerts.rowid" if many else "alerts.rowid").in_(matches.scalar_subquery())


def _fts_query(q: str) -> str | None:
    """The FTS5 query for ``q``: every word as a prefix; None when no word can be indexed."""
    words = [w for w in q.split() if _TOKEN.search(w)]
    return " ".join(_fts_phrase(w) + "*" for w in words) if words else None


def fts_count(q: str, cap: int) -> Select[tuple[int]] | None:
    """SQLite: how many alerts ``q`` matches, up to ``cap``, from the full-text index alone (its rows
    are the alerts', kept by triggers). Matching alerts by rowid first listed every match (27 ms for
    a common word at 1M alerts); this stops at ``cap``. None when ``q`` has no indexable word."""
    query = _fts_query(q)
    if query is None:
        return None
    matches = (
        select(literal_column("rowid"))
        .select_from(table(FTS_TABLE))
        .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("alerts_fts_query", query, type_=String)))
        .limit(cap)
        .subquery()
    )
    return select(func.count()).select_from(matches)


def text_search(q: str, dialect: str, *, many: bool = False, words_only: bool = False) -> ColumnElement[bool]:
    """``words_only`` (PostgreSQL): the word match without the substring one, whose row estimate
    is a guess from sampled documents (see ``paging.expect_few``)."""
    if dialect == "postgresql":
        document = literal_column(f"({PG_DOCUMENT})", String)
        words_match = AlertModel.search_vector.op("@@")(
            func.plainto_tsquery(literal_column("'simple'::regconfig"), q)
        )
        if len(q) < _TRIGRAM or words_only:
            return words_match
        # The substring test first: each candidate the bitmaps return is checked again, and most
        # pass it; the rest are checked against the stored words (``search_vector``).
        return or_(document.ilike(_like_pattern(q)), words_match)
    if dialect == "sqlite" and (query := _fts_query(q)):
        return _fts_match(query, many=many)
    # No indexable word (punctuation only), or another database: a plain scan.
    pattern = _like_pattern(q)
    title, description = AlertModel.title, AlertModel.description
    return or_(title.ilike(pattern, escape="\\"), description.ilike(pattern, escape="\\"))


def asset_filter(asset: str, dialect: str) -> ColumnElement[bool]:
    """One affected asset (``host:NAME``): JSONB containment on PostgreSQL (GIN index); on SQLite
    the FTS index narrows to alerts naming it and the exact quoted value is checked on those."""
    if dialect == "postgresql":
        return type_coerce(AlertModel.affected_assets, JSONB).contains([asset])
    quoted = '"' + asset.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    exact = cast(AlertModel.affected_assets, String).like(f"%{quoted}%", escape="\\")
    if dialect != "sqlite" or not _TOKEN.search(asset):
        return exact
    return _fts_match(f"affected_assets : {_fts_phrase(asset)}") & exact
