"""A lean HTTP/1.1 client for the open-model load: keep-alive connections, each request written
as one buffer and its answer read by `Content-Length` (or chunks).

httpx spends 4-5 ms of CPU per request, which at the freshness run's 100 orders/s is half a core
of a two-core machine taken from the system under test; this client spends about a tenth of a
millisecond (`python -m bench.rawhttp` measures both against the same server). `wrk` cannot take
its place there: it is a closed loop, and the freshness run needs each answer's time and body.
It speaks only what the services answer (HTTP/1.1, JSON bodies); anything else is an error.
"""

import asyncio
import json
import time
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from bench.load import Answer, Call, client, send

_END_OF_HEAD = b"\r\n\r\n"
TIMEOUT_S = 60.0
IDLE_LIMIT_S = 2.0
"""A connection idle longer is not reused: uvicorn closes them after 5 s."""
_CLOSED_UNDER_US = (asyncio.IncompleteReadError, ConnectionError)


class ProtocolError(Exception):
    pass


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()
        self.fresh = True
        """Not yet used for an exchange: a failure on it is the server's, not a stale close."""

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """(status, body, whether the server keeps the connection open)"""
        self.writer.write(request)
        head = await self.reader.readuntil(_END_OF_HEAD)
        status_line, *lines = head[: -len(_END_OF_HEAD)].decode("latin-1").split("\r\n")
        if not status_line.startswith("HTTP/1.1 "):
            raise ProtocolError(f"not an HTTP/1.1 answer: {status_line!r}")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunks()
        else:
            raise ProtocolError("an answer with neither Content-Length nor chunks")
        return int(status_line[9:12]), body, headers.get("connection", "").lower() != "close"

    async def _chunks(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:  # no trailers: the services send none
                return b"".join(parts)
            parts.append(chunk[:size])

    def close(self) -> None:
        self.writer.close()


class RawClient:
    """`send(call) -> Answer` over at most `connections` keep-alive connections to `base_url`."""

    def __init__(self, base_url: str, connections: int) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"only http://host:port URLs: {base_url}")
        self._host = url.hostname
        self._port = url.port or 80
        self._authority = url.netloc
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections)

    async def __aenter__(self) -> "RawClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _request(self, call: Call) -> bytes:
        body = json.dumps(call.body, separators=(",", ":")).encode()
        lines = [
            f"POST {call.path} HTTP/1.1",
            f"Host: {self._authority}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in call.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, call: Call) -> Answer:
        request = self._request(call)
        async with self._slots:
            sent_at = time.perf_counter()
            connection = self._reusable()
            try:
                async with asyncio.timeout(TIMEOUT_S):
                    try:
                        if connection is None:
                            connection = await self._open()
                        status, raw, keep = await connection.exchange(request)
                    except _CLOSED_UNDER_US:
                        if connection is None or connection.fresh:
                            raise
                        # the server closed the kept connection as we reused it (its idle
                        # timeout): it never read the request, so send it once on a new one
                        connection.close()
                        connection = await self._open()
                        status, raw, keep = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError, ProtocolError, TimeoutError) as error:
                if connection is not None:
                    connection.close()
                return Answer(call, 0, sent_at, time.perf_counter(), repr(error))
            answered_at = time.perf_counter()
            if keep:
                connection.fresh = False
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
        body: Any = json.loads(raw) if raw else None
        return Answer(call, status, sent_at, answered_at, body)

    def _reusable(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if time.monotonic() - connection.idle_since < IDLE_LIMIT_S:
                return connection
            connection.close()
        return None

    async def _open(self) -> _Connection:
        return _Connection(*await asyncio.open_connection(self._host, self._port))


async def _cpu_per_request(url: str, path: str, requests: int, connections: int) -> None:
    call = Call(path, {"probe": True})
    # as the open model sends: never more requests in flight than connections (httpx slows
    # down badly when requests queue inside it)
    slots = asyncio.Semaphore(connections)

    async def bounded(answer: Awaitable[Answer]) -> None:
        async with slots:
            await answer

    async def raw() -> None:
        async with RawClient(url, connections) as http:
            await asyncio.gather(*(bounded(http.send(call)) for _ in range(requests)))

    async def with_httpx() -> None:
        async with client(url, connections) as http:
            await asyncio.gather(*(bounded(send(http, call)) for _ in range(requests)))

    for name, run in (("httpx", with_httpx), ("raw", raw)) * 2:
        began = time.process_time()
        await run()
        spent = time.process_time() - began
        print(f"{name}: {spent / requests * 1e6:.0f} µs of the client's CPU per request")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="CPU per POST of httpx and of this client")
    parser.add_argument("url", help="e.g. http://localhost:8003 (any server; answers may be 4xx)")
    parser.add_argument("--path", default="/orders")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    asyncio.run(
        _cpu_per_request(arguments.url, arguments.path, arguments.requests, arguments.connections)
    )
