"""The shortened `make chaos`: a kill -9 of purchasing and of the broker under order load, then
every acknowledged order counted once, one OrderPlaced each, the pagu held, no 5xx outside the
faults that excuse them."""

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
