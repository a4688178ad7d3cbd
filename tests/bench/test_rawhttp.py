"""The freshness run's HTTP client against a real uvicorn server: statuses and JSON bodies as
sent, chunked answers, connections kept open and reopened when the server closes them."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from bench.environment import free_port
from bench.load import Call
from bench.rawhttp import RawClient

app = FastAPI()
peers: set[tuple[str, int]] = set()


@app.post("/echo", status_code=201)
async def echo(request: Request) -> dict[str, Any]:
    assert request.client is not None
    peers.add((request.client.host, request.client.port))
    return {"body": await request.json(), "key": request.headers.get("idempotency-key")}


@app.post("/refused")
async def refused() -> JSONResponse:
    return JSONResponse({"title": "no"}, status_code=409, headers={"Connection": "close"})


@app.post("/chunked")
async def chunked() -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b'{"a": ', b"[1, 2", b"]}"):
            yield part

    return StreamingResponse(parts(), media_type="application/json")


KEEP_ALIVE_S = 1  # uvicorn closes a connection idle this long (5 s by default)


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(app, port=port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_S)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


async def test_statuses_and_bodies_arrive_as_sent(base_url: str) -> None:
    async with RawClient(base_url, 4) as http:
        placed = await http.send(Call("/echo", {"n": 1}, {"Idempotency-Key": "k-1"}))
        refused = await http.send(Call("/refused", {}))
        streamed = await http.send(Call("/chunked", {}))
    assert (placed.status, placed.body) == (201, {"body": {"n": 1}, "key": "k-1"})
    assert (refused.status, refused.body) == (409, {"title": "no"})
    assert (streamed.status, streamed.body) == (200, {"a": [1, 2]})
    assert placed.latency > 0


async def test_connections_are_kept_open_and_reopened_after_a_close(base_url: str) -> None:
    peers.clear()
    async with RawClient(base_url, 2) as http:
        for n in range(10):
            assert (await http.send(Call("/echo", {"n": n}))).status == 201
        assert len(peers) == 1  # one after another: the same connection each time
        assert (await http.send(Call("/refused", {}))).status == 409
        answers = await asyncio.gather(*(http.send(Call("/echo", {"n": n})) for n in range(10)))
    assert [a.body["body"]["n"] for a in answers] == list(range(10))
    assert len(peers) == 3  # the closed one replaced by two, never more than two at once


async def test_a_connection_the_server_closed_while_idle_is_not_a_failed_request(
    base_url: str,
) -> None:
    async with RawClient(base_url, 4) as http:
        assert (await http.send(Call("/echo", {"n": 1}))).status == 201
        await asyncio.sleep(KEEP_ALIVE_S + 0.5)  # the server has closed the idle connection
        again = await http.send(Call("/echo", {"n": 2}))
    assert (again.status, again.body["body"]) == (201, {"n": 2})


async def test_a_server_that_is_not_there_is_status_0_not_an_exception() -> None:
    async with RawClient(f"http://127.0.0.1:{free_port()}", 1) as http:
        answer = await http.send(Call("/echo", {}))
    assert answer.status == 0 and "Connect" in str(answer.body)
