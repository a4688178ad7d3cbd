"""What every phase of the scenario shares: the plan, the APIs, the ledger and the log."""

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from demo.api import Api, Unexpected
from demo.ledger import Ledger
from demo.places import ADMIN
from demo.progress import Log, Progress
from demo.world import World

T = TypeVar("T")


@dataclass
class Context:
    world: World
    api: Api
    ledger: Ledger
    log: Log
    tag: str = ""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    """Part of every Idempotency-Key: retries within the run share keys, another run does not."""
    failures: list[str] = field(default_factory=list)
    """Calls that should have worked and did not: reported at the end, and fail the run."""

    def key(self, *parts: object) -> str:
        """An Idempotency-Key of this run: a create retried after a lost answer happens once."""
        return ":".join(map(str, ("demo", self.run_id, *parts)))

    def rng(self, *parts: object) -> random.Random:
        """A random generator of the plan's own, for draws made while playing it."""
        world = self.world
        return random.Random(":".join(map(str, (world.seed, world.fiscal_year, self.tag, *parts))))

    def admin(self, region: str) -> str:
        return self.api.token("admin", sub=f"{ADMIN}-{region}", region=region)

    def desk(self, desk: str, region: str) -> str:
        return self.api.token("desk", sub=desk, region=region)

    def vendor(self, vendor_key: int) -> str:
        vendor_id = self.ledger.vendor_ids[vendor_key]
        return self.api.token("vendor", sub=f"vendor-{vendor_id}", vendor_id=vendor_id)

    def buyer(self, opd_code: str, region: str) -> str:
        return self.api.token("buyer", sub=f"ppk-{opd_code}", opd=opd_code, region=region)

    def auditor(self) -> str:
        return self.api.token("auditor", sub="inspektorat-demo")

    async def each(
        self, items: Iterable[T], work: Callable[[T], Awaitable[None]], progress: Progress
    ) -> None:
        """Runs `work` on every item concurrently (the Api bounds how many calls are in flight);
        an unexpected answer is recorded, and the others go on."""

        async def one(item: T) -> None:
            try:
                await work(item)
            except Unexpected as error:
                self.failures.append(str(error))
            progress.tick()

        await asyncio.gather(*(one(item) for item in items))
