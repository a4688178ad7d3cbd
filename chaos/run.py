"""A fault-injection run: a private stack under order load, each fault in turn (inject, stay down
a few seconds, restart with the project's scripts, wait until the system has recovered), then
the checks against the ledger."""

import asyncio
import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from chaos.checks import Verdict, Window, verify, wait_counted
from chaos.load import REGION, Ledger, OrderLoad, World, headers, seed
from chaos.stack import SERVICES, PrivateStack

log = logging.getLogger("chaos")
RECOVERY_TIMEOUT_S = 180.0
GRACE_S = 3.0
"""After recovery, requests sent during the fault may still be answered late."""


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[PrivateStack], Awaitable[None]]
    restore: Callable[[PrivateStack], Awaitable[None]]
    writes_survive: bool
    """Orders must go on being taken during it (no 5xx from purchasing is excused)."""


def _kill(service: str) -> Fault:
    async def inject(stack: PrivateStack) -> None:
        stack.kill_service(service)

    async def restore(stack: PrivateStack) -> None:
        await stack.start_services()

    return Fault(f"kill -9 {service}", inject, restore, writes_survive=service != "purchasing")


async def _kill_broker(stack: PrivateStack) -> None:
    stack.kill_broker()


FAULTS: dict[str, Fault] = {
    **{f"kill -9 {s}": _kill(s) for s in SERVICES},
    "kill -9 kafka": Fault(
        "kill -9 kafka", _kill_broker, PrivateStack.start_broker, writes_survive=True
    ),
    "postgresql immediate stop": Fault(
        "postgresql immediate stop",
        PrivateStack.crash_postgres,
        PrivateStack.start_postgres,
        writes_survive=False,
    ),
}
QUICK = ("kill -9 purchasing", "kill -9 kafka")


@dataclass
class Outcome:
    verdict: Verdict
    windows: list[Window]
    run_dir: Path


async def _recovered(stack: PrivateStack, load: OrderLoad, world: World) -> None:
    """Every service ready with its broker reachable, and an order placed now counted by
    reporting: the whole path works again."""
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            try:
                answers = [await http.get(f"{stack.url(s)}/health/ready") for s in SERVICES]
                if all(
                    a.status_code == 200 and a.json()["dependencies"]["kafka"]["status"] == "up"
                    for a in answers
                ):
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        probe = world.probe_opd
        body = {
            "opd_code": probe,
            "fiscal_year": world.fiscal_year,
            "lines": [{"product_id": world.products[0][0], "quantity": 1}],
        }
        if await load.place(http, probe, body) != 201:
            raise RuntimeError("the probe order was refused")
        wanted = sum(1 for o in load.ledger.acknowledged.values() if o.opd_code == probe)
        path = f"{stack.url('reporting')}/compliance/opd/{world.fiscal_year}/{probe}/orders"
        while True:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                response = await http.get(path, headers=headers("auditor"))
                if response.status_code == 200 and response.json()["total"] >= wanted:
                    return
            await asyncio.sleep(0.5)


async def run(
    faults: list[str],
    *,
    clients: int = 6,
    settle_s: float = 8.0,
    down_s: float = 5.0,
    run_dir: Path | None = None,
    progress: Callable[[str], None] = print,
) -> Outcome:
    """The whole run on a private stack of its own, removed afterwards."""
    stack = PrivateStack(run_dir or Path(tempfile.mkdtemp(prefix="etalase-chaos-")))
    progress(
        f"private stack in {stack.run_dir}: kafka {stack.kafka},"
        f" postgresql :{stack.postgres_port} (cluster {stack.cluster})"
    )
    try:
        started = time.monotonic()
        await stack.up()
        progress(f"stack up in {time.monotonic() - started:.0f}s")
        world = await seed({s: stack.url(s) for s in SERVICES}, uuid.uuid4().hex[:6])
        outcome = await exercise(
            stack,
            world,
            faults,
            clients=clients,
            settle_s=settle_s,
            down_s=down_s,
            progress=progress,
        )
    finally:
        await stack.down()
    if outcome.verdict.passed:
        stack.remove_state()  # a failed run keeps its logs (services/, kafka/, scripts.log)
    return outcome


async def exercise(
    stack: PrivateStack,
    world: World,
    faults: list[str],
    *,
    clients: int,
    settle_s: float,
    down_s: float,
    progress: Callable[[str], None],
    ledger: Ledger | None = None,
) -> Outcome:
    """The faults in turn under order load on a running, seeded stack; then the checks.
    `ledger`: of every order already placed on the stack (the checks see all its orders)."""
    windows: list[Window] = []
    excused: list[Window] = []
    ledger = ledger if ledger is not None else Ledger()
    load = OrderLoad(stack.url("purchasing"), world, ledger, clients=clients)
    await load.until_known()
    stop = asyncio.Event()
    running = asyncio.create_task(load.run(stop))
    try:
        for name in faults:
            fault = FAULTS[name]
            await asyncio.sleep(settle_s)
            progress(f"{name}: injecting ({len(ledger.acknowledged)} orders acknowledged)")
            at = time.monotonic()
            await fault.inject(stack)
            await asyncio.sleep(down_s)
            await fault.restore(stack)
            try:
                await asyncio.wait_for(_recovered(stack, load, world), RECOVERY_TIMEOUT_S)
                window = Window(name, at, time.monotonic())
            except TimeoutError:
                window = Window(name, at, None)
            windows.append(window)
            if not fault.writes_survive:
                excused.append(window)
            progress(f"{name}: recovered in {window.recovery_s or float('nan'):.1f}s")
        await asyncio.sleep(settle_s)
    finally:
        stop.set()
        await running
    progress(f"load stopped: {len(ledger.acknowledged)} orders acknowledged; checking")
    await wait_counted(stack.url("reporting"), world, ledger)
    verdict = await verify(
        reporting=stack.url("reporting"),
        purchasing=stack.url("purchasing"),
        kafka=stack.kafka,
        world=world,
        ledger=ledger,
        windows=windows,
        excused=excused,
        grace_s=GRACE_S,
    )
    return Outcome(verdict, windows, stack.run_dir)


def table(outcome: Outcome) -> str:
    rows = [(name, str(value)) for name, value in outcome.verdict.figures.items()]
    rows += [
        (
            f"recovery: {w.fault}",
            "never" if w.recovery_s is None else f"{w.recovery_s:.1f} s",
        )
        for w in outcome.windows
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value:>12}" for name, value in rows]
    lines.append("")
    if outcome.verdict.passed:
        lines.append("VERDICT: PASS (nothing lost, nothing counted twice, pagu held)")
    else:
        lines += ["VERDICT: FAIL", *(f"  - {f}" for f in outcome.verdict.failures)]
    return "\n".join(lines)


__all__ = ["FAULTS", "QUICK", "REGION", "Outcome", "exercise", "run", "table"]
