"""Tests for aurorasoc.siem.query: parsing, error positions and SQL on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import TEST_START
from sqlalchemy import select

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.models import SiemLogModel
from aurorasoc.siem.query import And, Not, Or, Term, compile_query, parse

NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)


class TestParse:
    def test_field_value_and_bare_term_are_implicitly_anded(self):
        assert parse("host:web-01 powershell") == And((Term("host", "web-01"), Term(None, "powershell")))

    def test_and_binds_tighter_than_or(self):
        assert parse("a OR b AND NOT c") == Or(
            (Term(None, "a"), And((Term(None, "b"), Not(Term(None, "c")))))
        )

    def test_parentheses_override_precedence(self):
        assert parse("(a OR b) c") == And((Or((Term(None, "a"), Term(None, "b"))), Term(None, "c")))

    def test_quoted_phrase_keeps_backslashes_and_escaped_quotes(self):
        assert parse(r'Image:"C:\Windows\x.exe"') == Term("Image", r"C:\Windows\x.exe", quoted=True)
        assert parse(r'message:"say \"hi\""') == Term("message", 'say "hi"', quoted=True)

    def test_dotted_field_names_and_comparisons(self):
        assert parse("Event.EventData.Image:*cmd.exe") == Term("Event.EventData.Image", "*cmd.exe")
        assert parse("dst_port:>=1024") == Term("dst_port", "1024", op=">=")

    def test_lower_case_operators_are_search_words(self):
        assert parse("and or") == And((Term(None, "and"), Term(None, "or")))

    def test_blank_query_is_none(self):
        assert parse("   ") is None
        assert compile_query(None) is None

    @pytest.mark.parametrize(
        ("text", "position"),
        [("x AND", 3), ('host:"abc', 6), ("(a", 3), ("a)", 2), ("NOT", 4)],
    )
    def test_bad_syntax_names_the_position(self, text, position):
        with pytest.raises(InvalidInput) as err:
            parse(text)
        assert err.value.extra["position"] == position
        assert f"position {position}" in err.value.message

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("dst_port:abc", "integer"),
            ("host:>5", "comparison"),
            ("timestamp:2024", "range"),
        ],
    )
    def test_terms_sql_cannot_express_are_refused(self, text, reason):
        with pytest.raises(InvalidInput, match=reason):
            parse(text)

    def test_overlong_query_is_refused(self):
        with pytest.raises(InvalidInput, match="longer"):
            parse("a " * 1_001)


def _log(i: int, **values) -> SiemLogModel:
    base = {"source": "seed", "format": "json", "severity": "info", "fields": {}}
    return SiemLogModel(timestamp=NOW - timedelta(minutes=i), **(base | values))


def _seed() -> list[SiemLogModel]:
    """Fresh rows per test (ORM instances cannot move between sessions)."""
    return [
        _log(
            0,
            host="WEB-01",
            user_name="alice",
            dst_port=443,
            message="Accepted password for alice",
            fields={
                "Event.EventData.Image": r"C:\Windows\System32\cmd.exe",
                "Image": "cmd.exe",
                "EventID": 4688,
            },
        ),
        _log(
            1, host="web-02", dst_port=22, message="Failed password for root from 10.0.0.9", severity="high"
        ),
        _log(
            2,
            host=None,
            dst_port=None,
            message="kernel: 100% disk_usage",
            fields={"Image": "powershell.exe", "CommandLine": "powershell -enc SQBFAFgA"},
            raw='{"Image": "powershell.exe", "CommandLine": "powershell -enc SQBFAFgA"}',
        ),
    ]


@pytest.fixture
async def seeded(any_db_session):
    any_db_session.add_all(_seed())
    await any_db_session.flush()
    return any_db_session


async def _messages(session, text: str) -> set[str]:
    stmt = select(SiemLogModel.message).where(compile_query(text))
    return {m for m in (await session.scalars(stmt)).all()}


ALICE, ROOT, DISK = (row.message for row in _seed())


class TestQueryOnDatabase:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("host:web-01", {ALICE}),  # string columns ignore case
            ("host:web-*", {ALICE, ROOT}),
            ("PASSWORD", {ALICE, ROOT}),  # bare term: a word of the message
            ("-ENC", {DISK}),  # ... or of the field values (EVTX events carry no message)
            ('"password for root"', {ROOT}),
            ("NOT host:web-01", {ROOT, DISK}),  # a missing host does not hide the row
            ("severity:high OR user_name:alice", {ALICE, ROOT}),
            ("dst_port:>100", {ALICE}),
            ("dst_port:22", {ROOT}),
            ("dst_port:<=443 NOT dst_port:22", {ALICE}),
        ],
    )
    async def test_columns(self, seeded, text, expected):
        assert await _messages(seeded, text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (r'Event.EventData.Image:"C:\Windows\System32\cmd.exe"', {ALICE}),  # dotted key quoted right
            ("Event.EventData.Image:*system32*", {ALICE}),
            ("Image:*.exe", {ALICE, DISK}),
            ("image:cmd.exe", set()),  # JSON keys are case-sensitive
            ("EventID:4688", {ALICE}),  # JSON numbers compare as text
            ("NOT Image:cmd.exe", {ROOT, DISK}),
        ],
    )
    async def test_json_fields(self, seeded, text, expected):
        assert await _messages(seeded, text) == expected

    async def test_like_metacharacters_are_literal(self, seeded):
        assert await _messages(seeded, "100%") == {DISK}
        assert await _messages(seeded, "disk_usage") == {DISK}
        assert await _messages(seeded, "disk_u_age") == set()
