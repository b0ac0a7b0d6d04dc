"""SIEM query language (spec §13.6): text → AST → SQLAlchemy clause over ``siem_logs``.

Grammar (pyparsing, which pySigma already depends on)::

    query  := or
    or     := and ("OR" and)*
    and    := unary ("AND"? unary)*          adjacent terms are ANDed
    unary  := "NOT" unary | "(" query ")" | term
    term   := FIELD ":" [">"|">="|"<"|"<="] (PHRASE | WORD) | PHRASE | WORD

Semantics: ``field:value`` is a case-insensitive exact match, ``*`` in an unquoted value is a
wildcard; ``"phrases"`` are literal. A term without a field is a case-insensitive substring
search on ``message`` or the raw record. Known columns filter directly, any other field is read
from the ``fields`` JSON (keys may contain dots: ``Event.EventData.Image``). Comparisons only
apply to the integer port columns. Operators are upper-case so lower-case ``and``/``or``/``not``
stay search words. A term never matches a missing value, so ``NOT host:x`` also returns rows
without a host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pyparsing as pp
from sqlalchemy import ColumnElement, and_, func, not_, or_

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.models import SiemLogModel

MAX_QUERY_LENGTH = 2_000
MAX_QUERY_DEPTH = 32  # nested groups + NOT chains; the recursive-descent parser recurses per level
_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|[()]|[^\s()"]+')
Comparison = Literal["=", ">", ">=", "<", "<="]
STRING_COLUMNS = frozenset(
    {"host", "user_name", "src_ip", "dst_ip", "source", "format", "product", "category"}
    | {"service", "event_id", "severity", "message", "channel", "time_source", "process_executable"}
    | {"process_command_line", "process_entity_id", "parent_executable", "parent_entity_id"}
)
# Entity columns compared through lower() so an exact term uses the expression indexes (spec §28).
LOWER_INDEXED = frozenset({"host", "user_name"})
INT_COLUMNS = frozenset({"src_port", "dst_port"})


@dataclass(frozen=True)
class Term:
    """One ``field:value`` (``field`` None = bare term on ``message``)."""

    field: str | None
    value: str
    quoted: bool = False
    op: Comparison = "="


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


# --- parsing ------------------------------------------------------------------------------


def _grammar() -> pp.ParserElement:
    and_kw, or_kw, not_kw = pp.Keyword("AND"), pp.Keyword("OR"), pp.Keyword("NOT")
    keyword = and_kw | or_kw | not_kw
    phrase = pp.QuotedString('"', esc_quote='\\"').set_parse_action(lambda t: ("phrase", t[0]))
    text = pp.Regex(r'[^\s()"]+').set_parse_action(lambda t: ("word", t[0]))
    field = pp.Regex(r"[A-Za-z_@][\w.@-]*(?=:)")
    comparison = pp.Regex(r">=|<=|>|<")
    value = (phrase | text).set_name("value")
    field_term = (field + pp.Suppress(":") + pp.Opt(comparison, "=") + value).set_parse_action(_field_term)
    bare_term = (phrase | ~keyword + text).add_parse_action(
        lambda t: Term(None, t[0][1], t[0][0] == "phrase")
    )
    query = pp.Forward().set_name("query")
    unary = pp.Forward()
    group = pp.Suppress("(") + query + pp.Suppress(")")
    unary <<= (
        (pp.Suppress(not_kw) + unary).set_parse_action(lambda t: Not(t[0])) | group | field_term | bare_term
    )
    conj = (unary + (pp.Suppress(pp.Opt(and_kw)) + unary)[...]).set_parse_action(lambda t: _join(And, t))
    query <<= (conj + (pp.Suppress(or_kw) + conj)[...]).set_parse_action(lambda t: _join(Or, t))
    grammar: pp.ParserElement = query
    return grammar


def _field_term(tokens: pp.ParseResults) -> Term:
    name, op, (kind, text) = tokens
    return Term(name, text, kind == "phrase", op)


def _join(kind: type[And] | type[Or], tokens: pp.ParseResults) -> Node:
    children = tuple(tokens)
    return children[0] if len(children) == 1 else kind(children)


_PARSER = _grammar()


def parse(text: str) -> Node | None:
    """Parse a query; None for a blank one. Bad syntax → InvalidInput naming the position."""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"query is longer than {MAX_QUERY_LENGTH} characters")
    if not text.strip():
        return None
    if (depth := nesting_depth(text)) > MAX_QUERY_DEPTH:
        raise InvalidInput(
            f"query is nested {depth} levels deep; the limit is {MAX_QUERY_DEPTH}", code="query_too_deep"
        )
    try:
        node: Node = _PARSER.parse_string(text, parse_all=True)[0]
    except RecursionError:
        raise InvalidInput("query is nested too deeply", code="query_too_deep") from None
    except pp.ParseBaseException as exc:
        position = exc.loc + 1
        found = repr(text[exc.loc]) if exc.loc < len(text) else "end of query"
        raise InvalidInput(
            f"query syntax error at position {position} near {found}", code="invalid_query", position=position
        ) from None
    _check(node)
    return node


def nesting_depth(text: str) -> int:
    """Deepest ``(`` nesting plus the ``NOT`` chain at that point, counted before parsing."""
    depth = deepest = nots = 0
    for part in _TOKENS.findall(text):
        if part == "(":
            depth += 1
        elif part == ")":
            depth, nots = max(depth - 1, 0), 0
        elif part == "NOT":
            nots += 1
        else:
            nots = 0
        deepest = max(deepest, depth + nots)
    return deepest


def _check(node: Node) -> None:
    """Reject terms the SQL side cannot express, before any query runs."""
    if isinstance(node, Term):
        _term_clause(node)
    elif isinstance(node, Not):
        _check(node.child)
    else:
        for child in node.children:
            _check(child)


# --- SQL ----------------------------------------------------------------------------------


def to_clause(node: Node) -> ColumnElement[bool]:
    """The WHERE clause for a parsed query (portable across SQLite and PostgreSQL)."""
    if isinstance(node, Term):
        return _term_clause(node)
    if isinstance(node, Not):
        return not_(to_clause(node.child))
    combine = and_ if isinstance(node, And) else or_
    return combine(*(to_clause(child) for child in node.children))


def compile_query(text: str | None) -> ColumnElement[bool] | None:
    """Parse and compile in one step; None when there is nothing to filter on."""
    node = parse(text or "")
    return None if node is None else to_clause(node)


def _like_pattern(value: str, *, wildcards: bool, contains: bool) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if wildcards:
        escaped = escaped.replace("*", "%")
    return f"%{escaped}%" if contains else escaped


def _term_clause(term: Term) -> ColumnElement[bool]:
    if term.field is None:
        # EVTX and JSON events often carry no message: the raw record makes a bare word find them.
        pattern = _like_pattern(term.value, wildcards=not term.quoted, contains=True)
        return or_(
            _present(SiemLogModel.message, SiemLogModel.message.ilike(pattern, escape="\\")),
            _present(SiemLogModel.raw, SiemLogModel.raw.ilike(pattern, escape="\\")),
        )
    if term.field in INT_COLUMNS:
        return _int_clause(term)
    if term.op != "=":
        raise InvalidInput(
            f"comparison {term.op} only applies to {sorted(INT_COLUMNS)}", code="invalid_query"
        )
    if term.field in ("timestamp", "event_time"):
        raise InvalidInput("filter time with range or since/until, not in the query", code="invalid_query")
    column: Any = (
        getattr(SiemLogModel, term.field)
        if term.field in STRING_COLUMNS
        else SiemLogModel.fields[term.field].as_string()
    )
    if term.field in LOWER_INDEXED and (term.quoted or "*" not in term.value):
        return _present(column, func.lower(column) == term.value.lower())
    pattern = _like_pattern(term.value, wildcards=not term.quoted, contains=False)
    return _present(column, column.ilike(pattern, escape="\\"))


def _int_clause(term: Term) -> ColumnElement[bool]:
    try:
        number = int(term.value)
    except ValueError:
        raise InvalidInput(
            f"{term.field} takes an integer, not {term.value!r}", code="invalid_query"
        ) from None
    column: Any = getattr(SiemLogModel, str(term.field))
    compare = {
        "=": column == number,
        ">": column > number,
        ">=": column >= number,
        "<": column < number,
        "<=": column <= number,
    }
    return _present(column, compare[term.op])


def _present(column: Any, predicate: ColumnElement[bool]) -> ColumnElement[bool]:
    """Two-valued logic: NULL makes the term false (not unknown), so NOT behaves as users expect."""
    return and_(column.is_not(None), predicate)
