"""The four public HTTP APIs as the scenario uses them: base URLs, tokens, bounded concurrency and
the retries an event-driven system asks of its clients.

Another service hears of a change only when its event arrives, so a call that depends on it may
answer 409 for a moment (catalog before it heard a vendor was verified; purchasing before it heard
of a product). Those answers are retried with backoff; any other answer is the caller's to judge.
"""

import asyncio
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from etalase_platform.auth import mint_token
from etalase_platform.settings import DEV_JWT_SECRET

SERVICES = {"registration": 8001, "catalog": 8002, "purchasing": 8003, "reporting": 8004}
TRANSIENT = (httpx.TransportError,)


@dataclass(frozen=True)
class Endpoints:
    registration: str
    catalog: str
    purchasing: str
    reporting: str

    @classmethod
    def from_env(cls, **overrides: str | None) -> "Endpoints":
        """Where `deploy/services.sh` serves them: `<SERVICE>_HTTP_HOST`/`_HTTP_PORT`."""
        urls = {}
        for name, port in SERVICES.items():
            host = os.environ.get(f"{name.upper()}_HTTP_HOST", "127.0.0.1")
            default = f"http://{host}:{os.environ.get(f'{name.upper()}_HTTP_PORT', port)}"
            urls[name] = (overrides.get(name) or default).rstrip("/")
        return cls(**urls)

    def of(self, service: str) -> str:
        url: str = getattr(self, service)
        return url


class Unexpected(Exception):
    """A service answered what the scenario did not expect."""

    def __init__(self, what: str, response: httpx.Response) -> None:
        self.status = response.status_code
        self.body = _body(response)
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        super().__init__(f"{what}: HTTP {self.status} {detail or str(self.body)[:300]}")


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def problem(response: httpx.Response) -> dict[str, Any]:
    body = _body(response)
    return body if isinstance(body, dict) else {"detail": str(body)}


Retry = Callable[[httpx.Response], bool]


class Api:
    def __init__(
        self, endpoints: Endpoints, *, secret: str | None = None, concurrency: int = 24
    ) -> None:
        self.endpoints = endpoints
        self.secret = secret or os.environ.get("ETALASE_JWT_SECRET") or DEV_JWT_SECRET
        self._slots = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=64),
        )
        self._tokens: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        self.requests = 0
        self.retries: Counter[str] = Counter()

    async def aclose(self) -> None:
        await self._client.aclose()

    def token(
        self,
        role: str,
        *,
        sub: str | None = None,
        region: str | None = None,
        opd: str | None = None,
        vendor_id: str | None = None,
    ) -> str:
        key = (
            role,
            (
                ("sub", sub or ""),
                ("region", region or ""),
                ("opd", opd or ""),
                ("vendor_id", vendor_id or ""),
            ),
        )
        if key not in self._tokens:
            self._tokens[key] = mint_token(
                self.secret, role=role, sub=sub, region=region, opd=opd, vendor_id=vendor_id
            )
        return self._tokens[key]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        retry_while: Retry | None = None,
        patience: float = 120.0,
    ) -> httpx.Response:
        """One call; transport errors and 5xx are retried a few times, and answers for which
        `retry_while` holds are retried with backoff for up to `patience` seconds."""
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = self.endpoints.of(service) + path
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        delay, failures = 0.1, 0
        while True:
            try:
                async with self._slots:
                    self.requests += 1
                    response = await self._client.request(
                        method, url, json=body, params=params, headers=headers
                    )
            except TRANSIENT:
                failures += 1
                if failures > 4:
                    raise
                self.retries["transport error"] += 1
            else:
                if response.status_code >= 500 and failures < 4:
                    failures += 1
                    self.retries[f"HTTP {response.status_code}"] += 1
                elif retry_while is not None and retry_while(response) and loop.time() < deadline:
                    self.retries[_reason(service, response)] += 1
                else:
                    return response
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 2.0)

    async def json(self, service: str, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """A call that must succeed (2xx); its JSON body."""
        response = await self.call(service, method, path, **kwargs)
        if not response.is_success:
            raise Unexpected(what, response)
        return response.json()

    async def text(self, service: str, path: str) -> str:
        response = await self.call(service, "GET", path)
        if not response.is_success:
            raise Unexpected(f"GET {path}", response)
        return response.text


def _reason(service: str, response: httpx.Response) -> str:
    body = problem(response)
    rule = body.get("rule") or body.get("vendor_status")
    return f"{service} {response.status_code} {rule or ''}".strip()
