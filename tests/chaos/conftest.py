"""One private stack (its own broker, PostgreSQL cluster and services, via the deploy scripts)
for the package: these tests stop and kill what they run, never the shared infrastructure."""

import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chaos.load import Ledger, World, seed
from chaos.stack import SERVICES, PrivateStack


@pytest.fixture(scope="package")
async def private() -> AsyncIterator[tuple[PrivateStack, World, Ledger]]:
    """The stack, its seeded world, and the ledger of every order the tests place on it."""
    stack = PrivateStack(Path(tempfile.mkdtemp(prefix="etalase-chaos-test-")))
    try:
        await stack.up()
        world = await seed({s: stack.url(s) for s in SERVICES}, uuid.uuid4().hex[:6])
        yield stack, world, Ledger()
    finally:
        await stack.down()
    stack.remove_state()
