"""The shortened `make chaos`: a kill -9 of purchasing and of the broker under order load, then
every acknowledged order counted once, one OrderPlaced each, the pagu held, no 5xx outside the
faults that excuse them."""

import re
from pathlib import Path

import pytest

from chaos.load import Ledger, World
from chaos.run import QUICK, exercise, table
from chaos.stack import PrivateStack

pytestmark = pytest.mark.infra


async def test_a_short_chaos_run_loses_nothing(private: tuple[PrivateStack, World, Ledger]) -> None:
    stack, world, ledger = private
    outcome = await exercise(
        stack,
        world,
        list(QUICK),
        clients=4,
        settle_s=3.0,
        down_s=3.0,
        progress=print,
        ledger=ledger,
    )
    assert outcome.verdict.passed, table(outcome)
    assert outcome.verdict.figures["orders acknowledged"] > 0


def _server_pids(log: Path) -> list[str]:
    return re.findall(r"Started server process \[(\d+)\]", log.read_text(errors="replace"))


async def test_the_killed_service_left_its_log_behind(
    private: tuple[PrivateStack, World, Ledger],
) -> None:
    """After the short run: deploy/services.sh restarted purchasing and kept the killed
    process's log (its crash's evidence) as purchasing.log.1."""
    stack, _, _ = private
    logs = stack.run_dir / "services"
    before, now = _server_pids(logs / "purchasing.log.1"), _server_pids(logs / "purchasing.log")
    assert before and now and before != now
