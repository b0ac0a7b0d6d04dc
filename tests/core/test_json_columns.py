"""JSON columns read and written through ``aurorasoc.core.db``: orjson, with the stdlib for the rest."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from aurorasoc.core.db import create_engine_from_settings, read_json, write_json

BIG = 123456789012345678901234567890  # past 64 bits: orjson would read a float


def test_reads_what_orjson_refuses_or_changes_with_the_stdlib() -> None:
    loaded = read_json('{"nan": NaN, "list": [1, 2.5, "x"]}')
    assert math.isnan(loaded["nan"]) and loaded["list"] == [1, 2.5, "x"]
    for number in (BIG, 2**64, -(2**63) - 1, 2**64 - 1, -(2**63)):
        assert read_json(f'{{"n": {number}}}') == {"n": number}  # exact, an int
        assert type(read_json(str(number))) is int


async def test_a_stored_json_value_reads_back_the_same(tmp_path: Path) -> None:
    """Values the stdlib serializer writes (NaN, big integers) still load through the engine."""
    engine = create_engine_from_settings(url=f"sqlite+aiosqlite:///{tmp_path / 'json.db'}")
    table = Table("docs", MetaData(), Column("id", Integer, primary_key=True), Column("data", JSON))
    values = [{"n": 1, "nested": {"k": ["v", None, True]}}, {"big": BIG}, {"nan": float("nan")}]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(insert(table), [{"data": v} for v in values])
            read = (await conn.execute(select(table.c.data).order_by(table.c.id))).scalars().all()
    finally:
        await engine.dispose()
    assert read[:2] == values[:2] and math.isnan(read[2]["nan"])


def test_writes_with_orjson_and_leaves_the_rest_to_the_stdlib() -> None:
    assert write_json({"host": "WS-1", "n": [1, 2.5, True]}) == '{"host":"WS-1","n":[1,2.5,true]}'
    assert write_json({"user": "café"}) == '{"user":"café"}'  # UTF-8, as searched, not \\u00e9
    assert write_json({"nan": math.nan}) == '{"nan": NaN}'  # orjson would write null
    assert json.loads(write_json({"big": BIG, 1: "int key"})) == {"big": BIG, "1": "int key"}
    assert write_json({"s": "\ud800"}) == '{"s": "\\ud800"}'  # a lone surrogate, as before
    with pytest.raises(TypeError):  # what the stdlib refused is still refused
        write_json({"at": datetime.now(UTC)})
