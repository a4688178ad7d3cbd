"""Types and helpers the tests share (fixtures live in conftest.py)."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from etalase_platform.auth import mint_token
from etalase_platform.settings import DEV_JWT_SECRET
from fastapi import FastAPI


@dataclass(frozen=True)
class Infra:
    kafka: str
    postgres: str  # a server-level URL (libpq form) with a role that may create databases


DatabaseFactory = Callable[[str], Awaitable[str]]
TopicFactory = Callable[..., Awaitable[str]]


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 60.0, interval: float = 0.1
) -> None:
    """Waits until `check` holds; fails the test with a clear message when it never does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout}s: {check.__name__}")
        await asyncio.sleep(interval)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Runs an app with its lifespan (migrations, producer, relay, consumers); yields a client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def bearer(
    role: str,
    *,
    sub: str | None = None,
    region: str | None = None,
    opd: str | None = None,
    vendor_id: str | None = None,
) -> dict[str, str]:
    """An Authorization header for a locally minted token (the dev secret)."""
    token = mint_token(
        DEV_JWT_SECRET, role=role, sub=sub, region=region, opd=opd, vendor_id=vendor_id
    )
    return {"Authorization": f"Bearer {token}"}


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def screenshot_path(name: str) -> Path:
    """Where a browser test saves a screenshot: `docs/images` (the pictures the docs show) when
    ETALASE_UPDATE_SCREENSHOTS=1, else `.run/screenshots`, so that `make test` leaves the checkout
    as it found it."""
    root = Path(__file__).resolve().parents[1]
    update = os.environ.get("ETALASE_UPDATE_SCREENSHOTS") == "1"
    folder = root / "docs" / "images" if update else root / ".run" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
