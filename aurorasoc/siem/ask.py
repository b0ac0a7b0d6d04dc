"""Ask in words (issue #19 §7): a question becomes a query in the SIEM search language.

Nothing runs here: the answer is the query text (checked by :func:`aurorasoc.siem.query.parse`) for
the console to show, edit and run through the ordinary search. With an OpenAI-compatible model
configured (``AURORA_LLM_BASE_URL``) the model writes it, shown the grammar and values that are
actually stored; an unreachable model or an answer that does not parse falls back to the offline
builder and says so. Offline, the builder picks the stored hosts, users, processes and addresses the
question names (and any IP or Windows event id in it); :func:`build_query` turns conditions picked
in the console's guided builder into the same language.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.errors import InvalidInput, ServiceUnavailable
from aurorasoc.core.llm_text import complete_text, model_configured
from aurorasoc.siem.models import SiemLogModel
from aurorasoc.siem.query import parse

AskField = Literal["host", "user_name", "process_executable", "src_ip", "dst_ip", "event_id"]
BUILDER_FIELDS: tuple[AskField, ...] = (
    "host",
    "user_name",
    "process_executable",
    "src_ip",
    "dst_ip",
    "event_id",
)
VALUES_PER_FIELD = 50
SAMPLE_ROWS = 100_000
_PLAIN = re.compile(r'^[^\s()"*]+$')
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_EVENT_ID = re.compile(r"\b(?:event(?:\s*id)?\s*)(\d{1,5})\b", re.IGNORECASE)
_JSON = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class Condition:
    field: AskField
    value: str


@dataclass
class Answer:
    query: str
    backend: Literal["model", "offline"]
    explanation: str
    conditions: list[Condition] = field(default_factory=list)


def _quote(value: str) -> str:
    if _PLAIN.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_query(conditions: list[Condition], words: str | None = None) -> str:
    """Conditions on one field are alternatives (OR), different fields must all hold (AND)."""
    by_field: dict[str, list[str]] = {}
    for cond in conditions:
        by_field.setdefault(cond.field, []).append(f"{cond.field}:{_quote(cond.value)}")
    parts = [terms[0] if len(terms) == 1 else f"({' OR '.join(terms)})" for terms in by_field.values()]
    if words and words.strip():
        parts.append(_quote(words.strip()))
    query = " AND ".join(parts)
    parse(query)  # never hand out a query the search would refuse
    return query


async def stored_values(session: AsyncSession, limit: int = VALUES_PER_FIELD) -> dict[str, list[str]]:
    """The most frequent values of each builder field among the latest received events (bounded:
    an index walk of ``SAMPLE_ROWS`` rows, not a scan of the whole store, spec §28)."""
    recent = (
        select(*(getattr(SiemLogModel, name) for name in BUILDER_FIELDS))
        .order_by(SiemLogModel.received_at.desc())
        .limit(SAMPLE_ROWS)
        .cte("recent")
    )
    out: dict[str, list[str]] = {}
    for name in BUILDER_FIELDS:
        column = recent.c[name]
        stmt = (
            select(column)
            .where(column.is_not(None), column != "")
            .group_by(column)
            .order_by(func.count().desc(), column)
            .limit(limit)
        )
        out[name] = [str(v) for v in (await session.scalars(stmt)).all()]
    return out


def _mentions(question: str, value: str, kind: str) -> bool:
    text, val = question.lower(), value.lower()
    if kind == "process_executable":
        base = re.split(r"[\\/]", val)[-1]
        return bool(base) and re.search(rf"(?<![\w.-]){re.escape(base)}(?![\w-])", text) is not None
    if kind == "user_name":
        short = val.split("\\")[-1]
        return re.search(rf"(?<![\w.-]){re.escape(short)}(?![\w-])", text) is not None
    short = val.split(".")[0] if kind == "host" else val
    return re.search(rf"(?<![\w.-]){re.escape(short)}(?![\w-])", text) is not None


def offline_conditions(question: str, values: dict[str, list[str]]) -> list[Condition]:
    """Stored values the question names, plus IP addresses and Windows event ids written in it."""
    found = [
        Condition(name, value)
        for name in ("host", "user_name", "process_executable")
        for value in values.get(name, [])
        if _mentions(question, value, name)
    ]
    for raw in _IPV4.findall(question):
        try:
            ip = str(ipaddress.ip_address(raw))
        except ValueError:
            continue
        side: AskField = (
            "dst_ip" if ip in values.get("dst_ip", []) and ip not in values.get("src_ip", []) else "src_ip"
        )
        found.append(Condition(side, ip))
    found.extend(Condition("event_id", eid) for eid in _EVENT_ID.findall(question))
    return list(dict.fromkeys(found))


def offline_answer(question: str, values: dict[str, list[str]], note: str = "") -> Answer:
    conditions = offline_conditions(question, values)
    if not conditions:
        why = "The question names no stored host, user, process, IP or event id: pick them in the builder."
        return Answer("", "offline", f"{note}{why}")
    named = ", ".join(f"{c.field} {c.value}" for c in conditions)
    return Answer(
        build_query(conditions), "offline", f"{note}Built from the stored values named: {named}.", conditions
    )


def _prompt(values: dict[str, list[str]]) -> str:
    samples = "\n".join(
        f"- {name}: {', '.join(vals[:15]) or '(none stored)'}" for name, vals in values.items()
    )
    return (
        "You are the SIEM query agent. Turn the analyst's question into ONE query in this search language:\n"
        '  field:value (case-insensitive exact; * wildcard), "phrase" (substring of the message),\n'
        "  AND / OR / NOT (upper case), parentheses. Fields: host, user_name, process_executable,\n"
        "  process_command_line, parent_executable, src_ip, dst_ip, src_port, dst_port, event_id,\n"
        "  channel, source, severity, message; any other name reads the event's JSON fields.\n"
        "Time ranges are chosen separately: do not put times in the query. Values stored now:\n"
        f"{samples}\n"
        'Answer with JSON only: {"query": "...", "explanation": "one sentence"}.'
    )


async def _model_answer(question: str, values: dict[str, list[str]]) -> Answer:
    """Raises InvalidInput when the model writes no valid query (ServiceUnavailable: no answer)."""
    content = await complete_text(_prompt(values), question)
    match = _JSON.search(content)
    try:
        data: dict[str, Any] = json.loads(match.group(0)) if match else {}
        query = str(data.get("query") or "").strip()
        parse(query)
    except (ValueError, InvalidInput) as exc:
        raise InvalidInput(f"the model's answer is not a valid query: {str(exc)[:200]}") from exc
    if not query:
        raise InvalidInput("the model returned no query")
    return Answer(query, "model", str(data.get("explanation") or "")[:500])


async def ask(session: AsyncSession, question: str) -> Answer:
    """The query for ``question``: the model's when one is configured and answers well, else offline."""
    values = await stored_values(session)
    if not model_configured():
        return offline_answer(question, values)
    try:
        return await _model_answer(question, values)
    except (InvalidInput, ServiceUnavailable) as exc:
        return offline_answer(question, values, note=f"Model not used: {exc.message}. ")
