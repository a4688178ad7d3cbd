"""What every request meets first and every response leaves with, as pure ASGI middleware.

- `TextGuard`: text a client sends must be text PostgreSQL can store. A NUL character (or, in a
  JSON body, a lone surrogate) in the path, the query, a header or any string of a JSON body is
  a 422 naming where, here once, instead of a database error deep in one route.
- `TrustedHosts`: a `Host` outside the configured names is refused (400).
- `SecurityHeaders`: the headers a public-facing service sends on every answer.
"""

import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etalase_platform.problems import PROBLEM_JSON, PROBLEM_TYPE

API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": API_CSP,
    "cache-control": "no-store",
}
"""Sent unless the answer sets its own (the documentation pages set a CSP that lets their own
scripts and styles run)."""


def _problem(status: int, title: str, errors: list[dict[str, str]]) -> JSONResponse:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    body = {
        "type": PROBLEM_TYPE.format(status=status),
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = list(_request_line_errors(scope))
        if errors:
            await _problem(422, "Invalid input", errors)(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if b"\\u" in body or b"\x00" in body:
            errors = list(_json_errors(body))
            if errors:
                await _problem(422, "Invalid input", errors)(scope, receive, send)
                return
        await self.app(scope, _replay(body, more, receive), send)


_NUL = "must not contain a NUL character"


def _request_line_errors(scope: Scope) -> Iterator[dict[str, str]]:
    if "\x00" in scope["path"]:
        yield {"field": "path", "message": _NUL}
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or b"%00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                yield {"field": name.replace("\x00", "\\u0000"), "message": _NUL}
    for name, value in scope["headers"]:
        if b"\x00" in value or b"\x00" in name:
            yield {"field": name.decode("latin-1").replace("\x00", "\\u0000"), "message": _NUL}


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body; `more` is False once the client said it sent everything."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent or more:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _json_errors(body: bytes) -> Iterator[dict[str, str]]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return  # not JSON: the route's own parsing answers 422 for that
    yield from _bad_strings(document, [])


def _bad_strings(node: Any, at: list[str]) -> Iterator[dict[str, str]]:
    if isinstance(node, str):
        if "\x00" in node:
            yield {"field": ".".join(at) or "body", "message": _NUL}
        elif not _is_unicode(node):
            yield {"field": ".".join(at) or "body", "message": "must be valid Unicode text"}
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _bad_strings(item, [*at, str(index)])
    elif isinstance(node, dict):
        for key, value in node.items():
            if not _is_unicode(key) or "\x00" in key:
                yield {"field": ".".join(at) or "body", "message": "a member name is not text"}
            else:
                yield from _bad_strings(value, [*at, key])


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800) that JSON allows and UTF-8 does not
        return False
    return True


class TrustedHosts:
    """`*` trusts every name; `*.example.go.id` a domain and its subdomains."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app = app
        self.hosts = [host.strip().lower() for host in hosts if host.strip()]
        self.any = "*" in self.hosts

    def trusted(self, host: str) -> bool:
        name = host.lower()
        name = name[1 : name.index("]")] if name.startswith("[") and "]" in name else name
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        return any(
            name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:]))
            for pattern in self.hosts
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if self.trusted(host):
            await self.app(scope, receive, send)
            return
        error = {"field": "host", "message": "this service does not answer for that name"}
        await _problem(400, "Bad request", [error])(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, with_headers)
