"""Ask in words (issue #19 §7): a question becomes a query in the search language, which then runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_agents_llm import ScriptedLLM, llm  # noqa: F401  (the scripted OpenAI-compatible server)

from aurorasoc.core.db import session_scope
from aurorasoc.core.models import SiemLogModel

# ruff: noqa: F811  (the scripted-model fixture is imported from test_agents_llm)
PROCDUMP = "C:\\Users\\IEUser\\Desktop\\procdump.exe"
AT = datetime(2019, 3, 17, 19, 9, 41, tzinfo=UTC)


async def _store() -> None:
    def log(host: str, user: str, exe: str, event_id: str, src_ip: str | None = None) -> SiemLogModel:
        return SiemLogModel(
            source="sysmon", format="evtx", host=host, user_name=user, process_executable=exe,
            event_id=event_id, src_ip=src_ip, message=f"{exe} on {host}", timestamp=AT, received_at=AT,
        )  # fmt: skip

    async with session_scope() as session:
        session.add_all(
            [
                log("PC04.example.corp", "CORP\\alice", PROCDUMP, "10"),
                log("PC04.example.corp", "CORP\\alice", "C:\\Windows\\explorer.exe", "1"),
                log("DC01.example.corp", "CORP\\bob", "C:\\Windows\\System32\\cmd.exe", "1", "203.0.113.7"),
            ]
        )


async def test_offline_the_question_names_stored_entities_and_the_query_finds_their_events(
    client, role_headers
):
    await _store()
    question = {"question": "What did alice run with procdump.exe on PC04?"}
    answer = await client.post("/api/v1/siem/ask", json=question, headers=role_headers["analyst"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["backend"] == "offline"
    assert body["query"] == (
        "host:PC04.example.corp AND user_name:CORP\\alice AND process_executable:" + PROCDUMP
    )
    found = await client.get(
        "/api/v1/siem/logs", params={"q": body["query"], "range": "all"}, headers=role_headers["analyst"]
    )
    assert [(r["host"], r["event_id"]) for r in found.json()["items"]] == [("PC04.example.corp", "10")]

    by_ip = await client.post(
        "/api/v1/siem/ask", json={"question": "anything from 203.0.113.7, event id 1?"},
        headers=role_headers["analyst"],
    )  # fmt: skip
    assert by_ip.json()["query"] == "src_ip:203.0.113.7 AND event_id:1"
    nothing = await client.post(
        "/api/v1/siem/ask", json={"question": "show me badness"}, headers=role_headers["analyst"]
    )
    assert nothing.json()["query"] == "" and "builder" in nothing.json()["explanation"]


async def test_guided_builder_offers_stored_values_and_quotes_what_needs_it(client, role_headers):
    await _store()
    values = await client.get("/api/v1/siem/ask/values", headers=role_headers["analyst"])
    assert values.json()["host"] == ["PC04.example.corp", "DC01.example.corp"]  # most frequent first
    assert "203.0.113.7" in values.json()["src_ip"]
    conditions = [
        {"field": "host", "value": "PC04.example.corp"},
        {"field": "host", "value": "DC01.example.corp"},
        {"field": "process_executable", "value": "C:\\Program Files\\a b.exe"},
    ]
    built = await client.post(
        "/api/v1/siem/ask/build", json={"conditions": conditions, "words": "lsass"},
        headers=role_headers["analyst"],
    )  # fmt: skip
    assert built.json()["query"] == (
        "(host:PC04.example.corp OR host:DC01.example.corp) AND "
        'process_executable:"C:\\\\Program Files\\\\a b.exe" AND lsass'
    )
    bad_field = await client.post(
        "/api/v1/siem/ask/build", json={"conditions": [{"field": "password", "value": "x"}]},
        headers=role_headers["analyst"],
    )  # fmt: skip
    too_long = await client.post(
        "/api/v1/siem/ask", json={"question": "x" * 501}, headers=role_headers["analyst"]
    )
    anonymous = await client.post("/api/v1/siem/ask", json={"question": "hosts"})
    viewer = await client.get("/api/v1/siem/ask/values", headers=role_headers["viewer"])  # no siem:read
    statuses = (bad_field.status_code, too_long.status_code, anonymous.status_code, viewer.status_code)
    assert statuses == (422, 422, 401, 403)


async def test_a_configured_model_writes_the_query_from_the_stored_values(
    llm: ScriptedLLM, client, role_headers
):
    await _store()
    query = "host:PC04.example.corp AND event_id:10"
    llm.script = {
        "siem_query": [lambda _b: {"content": json.dumps({"query": query, "explanation": "LSASS access"})}]
    }
    answer = await client.post(
        "/api/v1/siem/ask",
        json={"question": "who read lsass memory on PC04?"},
        headers=role_headers["analyst"],
    )
    assert (answer.json()["backend"], answer.json()["query"]) == ("model", query)
    [request] = llm.requests
    assert "PC04.example.corp" in request["messages"][0]["content"]  # shown what is stored
    assert request["messages"][1] == {"role": "user", "content": "who read lsass memory on PC04?"}


async def test_a_model_answer_that_does_not_parse_falls_back_to_the_offline_builder(
    llm: ScriptedLLM, client, role_headers
):
    await _store()
    llm.script = {"siem_query": [lambda _b: {"content": '{"query": "host:(PC04"}'}]}
    answer = await client.post(
        "/api/v1/siem/ask", json={"question": "events on PC04"}, headers=role_headers["analyst"]
    )
    body = answer.json()
    assert body["backend"] == "offline" and body["query"] == "host:PC04.example.corp"
    assert body["explanation"].startswith("Model not used: the model's answer is not a valid query")
