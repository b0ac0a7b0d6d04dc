"""SIEM query language (spec §13.6): text → AST → SQLAlchemy clause over ``siem_logs``.

Grammar (pyparsing, which pySigma already depends on)::

    query  := or
    or     := and ("OR" and)*
    and    := unary ("AND"? unary)*          adjacent terms are ANDed
    unary  := "NOT" unary | "(" query ")" | term
    term   := FIELD ":" [">"|">="|"<"|"<="] (PHRASE | WORD) | PHRASE | WORD

Semantics: ``field:value`` is a case-insensitive exact match, ``*`` in an unquoted value is a
wildcard; ``"phrases"`` are literal. Every query shape is compiled to use an index (spec §28):

* entity columns (``CI_COLUMNS``) compare ``lower(column)`` — the expression the indexes are built
  on — with ``=``, and a wildcard suffix (``host:web*``) as a prefix range (SQLite) or ``LIKE 'web%'``
  (PostgreSQL, usable by the index under the C collation);
* ``EXACT_COLUMNS`` (addresses, event ids, process GUIDs) compare the stored value with ``=``;
* a term without a field is a full-text match over the message and the flattened field values
  (SQLite FTS5, PostgreSQL's stored ``search_vector`` with its GIN index). Letters and digits make
  words, anything else separates them, on both sides: ``cmd.exe`` is the phrase ``cmd exe``,
  ``word*`` matches a word prefix, ``"a phrase"`` its words adjacent and in order;
* other columns and ``fields`` keys (``Event.EventData.Image``) fall back to a case-insensitive
  ``LIKE`` (a scan, narrowed by the other terms).

Comparisons only apply to the integer port columns. Operators are upper-case so lower-case
``and``/``or``/``not`` stay search words. A term never matches a missing value, so ``NOT host:x``
also returns rows without a host.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Literal

import pyparsing as pp
from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, not_, or_, select, table
from sqlalchemy.ext.compiler import compiles

from aurorasoc.core.errors import InvalidInput
from aurorasoc.siem.models import SIEM_PREFIX_COLUMNS, SiemLogModel

MAX_QUERY_LENGTH = 2_000
MAX_QUERY_DEPTH = 32  # nested groups + NOT chains; the recursive-descent parser recurses per level
_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|[()]|[^\s()"]+')
Comparison = Literal["=", ">", ">=", "<", "<="]
STRING_COLUMNS = frozenset(
    {"host", "user_name", "src_ip", "dst_ip", "source", "format", "product", "category"}
    | {"service", "event_id", "severity", "message", "channel", "time_source", "process_executable"}
    | {"process_command_line", "process_entity_id", "parent_executable", "parent_entity_id"}
)
# Columns with an index on lower(column) / on the column itself (spec §28, models.SiemLogModel).
CI_COLUMNS = frozenset({"host", "user_name", "process_executable", "parent_executable", "channel"})
EXACT_COLUMNS = frozenset({"src_ip", "dst_ip", "event_id", "process_entity_id"})
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


def covered_prefix(node: Node | None) -> bool:
    """Whether a query is one wildcard term (``host:ws-00*``) on a column whose pattern index holds
    the page keys (``models.SIEM_PREFIX_COLUMNS``, 0022): the index alone has every match's keys.
    A leading ``*`` has no prefix, so it would read the whole index."""
    if not isinstance(node, Term) or node.field not in SIEM_PREFIX_COLUMNS or node.op != "=":
        return False
    return not node.quoted and "*" in node.value and not node.value.startswith("*")


def _like_pattern(value: str, *, wildcards: bool, contains: bool) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if wildcards:
        escaped = escaped.replace("*", "%")
    return f"%{escaped}%" if contains else escaped


def _term_clause(term: Term) -> ColumnElement[bool]:
    if term.field is None:
        return _text_clause(term)
    if term.field in INT_COLUMNS:
        return _int_clause(term)
    if term.op != "=":
        raise InvalidInput(
            f"comparison {term.op} only applies to {sorted(INT_COLUMNS)}", code="invalid_query"
        )
    if term.field in ("timestamp", "event_time"):
        raise InvalidInput("filter time with range or since/until, not in the query", code="invalid_query")
    wildcard = not term.quoted and "*" in term.value
    indexed: Any = getattr(SiemLogModel, term.field, None)
    if term.field in EXACT_COLUMNS and not wildcard:
        return _present(indexed, indexed == term.value)
    if term.field in CI_COLUMNS:
        return _present(indexed, _ci_clause(func.lower(indexed), term.value.lower(), wildcard=wildcard))
    column: Any = (
        getattr(SiemLogModel, term.field)
        if term.field in STRING_COLUMNS
        else SiemLogModel.fields[term.field].as_string()
    )
    pattern = _like_pattern(term.value, wildcards=not term.quoted, contains=False)
    return _present(column, column.ilike(pattern, escape="\\"))


def _ci_clause(key: Any, value: str, *, wildcard: bool) -> ColumnElement[bool]:
    """``lower(column)`` against a lower-cased value: ``=``, or an indexed prefix before any LIKE."""
    if not wildcard:
        return key == value  # type: ignore[no-any-return]
    prefix = value.split("*", 1)[0]
    pattern = _like_pattern(value, wildcards=True, contains=False)
    if prefix and pattern == _like_pattern(prefix, wildcards=False, contains=False) + "%":
        return PrefixMatch(key, prefix)
    narrowed = [PrefixMatch(key, prefix)] if prefix else []
    return and_(*narrowed, key.like(pattern, escape="\\"))


def _text_clause(term: Term) -> ColumnElement[bool]:
    """A bare word or phrase: the full-text index; text with no word in it (``-``) scans the message."""
    prefix = not term.quoted and term.value.endswith("*")
    words = _WORDS.findall(term.value)
    if not words:
        pattern = _like_pattern(term.value, wildcards=False, contains=True)
        return _present(SiemLogModel.message, SiemLogModel.message.ilike(pattern, escape="\\"))
    return TextMatch(" ".join(words), prefix=prefix)


_WORDS = re.compile(r"[^\W_]+")


class PrefixMatch(ColumnElement[bool]):
    """``key`` starts with ``prefix``, in a form the key's b-tree index serves on each dialect."""

    inherit_cache = False

    def __init__(self, key: Any, prefix: str) -> None:
        self.expr, self.prefix = key, prefix


@compiles(PrefixMatch, "postgresql")
def _prefix_pg(element: PrefixMatch, compiler: Any, **kw: Any) -> str:
    # No ESCAPE clause: it turns the pattern into a function call the planner cannot use; PostgreSQL's
    # default escape character is the backslash _like_pattern writes anyway. The pattern is inline, not
    # bound: a prepared statement's generic plan (from the 6th run on) cannot turn ``LIKE $1`` into an
    # index range and scans every partition (1.8 s at 1M events instead of 1 ms).
    pattern = _like_pattern(element.prefix, wildcards=False, contains=False) + "%"
    return str(compiler.process(element.expr.like(bindparam(None, pattern, literal_execute=True)), **kw))


@compiles(PrefixMatch)
def _prefix_range(element: PrefixMatch, compiler: Any, **kw: Any) -> str:
    """SQLite cannot use an expression index for LIKE, but can for a range (BINARY = code-point order)."""
    low, last, key = element.prefix, element.prefix[-1], element.expr
    bounds: list[Any] = [key >= low]
    if ord(last) < sys.maxunicode:
        bounds.append(key < low[:-1] + chr(ord(last) + 1))
    return str(compiler.process(and_(*bounds), **kw))


class TextMatch(ColumnElement[bool]):
    """Full-text match of ``words`` (adjacent, in order; the last one as a prefix when ``prefix``)."""

    inherit_cache = False

    def __init__(self, words: str, *, prefix: bool) -> None:
        self.words, self.prefix = words, prefix


@compiles(TextMatch, "postgresql")
def _text_pg(element: TextMatch, compiler: Any, **kw: Any) -> str:
    # The words are rendered inline (escaped) rather than bound: a prepared statement's generic plan
    # cannot judge a tsquery's selectivity and falls back to scanning every row.
    simple: Any = literal_column("'simple'::regconfig")
    if element.prefix:
        words: Any = bindparam(None, " <-> ".join(element.words.split()) + ":*", literal_execute=True)
        query = func.to_tsquery(simple, words)
    else:
        query = func.phraseto_tsquery(simple, bindparam(None, element.words, literal_execute=True))
    return str(compiler.process(SiemLogModel.__table__.c.search_vector.op("@@")(query), **kw))


@compiles(TextMatch)
def _text_fts5(element: TextMatch, compiler: Any, **kw: Any) -> str:
    match = f'"{element.words}"' + ("*" if element.prefix else "")
    fts: Any = select(literal_column("rowid")).select_from(table("siem_logs_fts"))
    fts = fts.where(literal_column("siem_logs_fts").op("MATCH")(match))
    return str(compiler.process(literal_column("siem_logs.rowid").in_(fts), **kw))


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
