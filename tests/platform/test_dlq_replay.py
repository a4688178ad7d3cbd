"""`etalase dlq list|replay`: after the fix, a dead-lettered event is published again to its topic
and the consumer that could not apply it applies it, once; the others skip it."""

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Sequence

import pytest
from etalase_platform.consumer import Delivery
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.helpers import DatabaseFactory, Infra, TopicFactory, eventually
from tests.platform.support import RecordEffects
from tests.platform.test_consumer import _consumer, _effects, _produce, _read, _Running, _valid

pytestmark = pytest.mark.infra


class _BrokenUntilFixed(RecordEffects):
    def __init__(self, source: str, bad_subject: str) -> None:
        super().__init__(source)
        self.bad_subject: str | None = bad_subject

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        if any(d.decoded.envelope.subject == self.bad_subject for d in deliveries):
            raise ValueError(f"cannot apply {self.bad_subject}")
        await super().apply(session, deliveries)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etalase_platform.cli", "dlq", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_replayed_dead_letter_is_applied_once_after_the_fix(
    infra: Infra, new_database: DatabaseFactory, new_topic: TopicFactory
) -> None:
    topic = await new_topic("replay", partitions=1)
    source = f"test/{uuid.uuid4()}"
    await _produce(infra.kafka, topic, [_valid(source, f"s{i}") for i in range(10)])
    projector = _BrokenUntilFixed(source, "s4")
    consumer, engine, producer = await _consumer(infra, new_database, topic, projector)
    async with _Running(consumer):

        async def others_applied() -> bool:
            return len(await _effects(engine)) == 9

        await eventually(others_applied)
        await _read(infra.kafka, topic + ".dlq", expected=1)
        listed = await asyncio.to_thread(
            _cli, "list", "--topic", f"{topic}.dlq", "--kafka", infra.kafka
        )
        assert listed.returncode == 0, listed.stderr
        assert f"{topic}.dlq[0]@0 -> {topic} consumer=effects" in listed.stdout
        assert "cannot apply s4" in listed.stdout

        projector.bad_subject = None  # the fix is deployed
        replayed = await asyncio.to_thread(
            _cli, "replay", "--topic", f"{topic}.dlq", "--partition", "0", "--offset", "0",
            "--consumer", "effects", "--kafka", infra.kafka,
        )  # fmt: skip
        assert replayed.returncode == 0, replayed.stderr
        assert "replayed 1 record(s)" in replayed.stdout

        async def all_applied() -> bool:
            return len(await _effects(engine)) == 10

        await eventually(all_applied)
    assert len(set(await _effects(engine))) == 10
    republished = await _read(infra.kafka, topic, expected=11)
    assert not any(name.startswith("dlq_") for name, _ in republished[-1].headers)
    await producer.stop()
    await engine.dispose()


async def test_replay_names_a_missing_topic_and_a_record_that_is_not_a_dead_letter(
    infra: Infra, new_topic: TopicFactory
) -> None:
    missing = await asyncio.to_thread(
        _cli, "list", "--topic", "no.such.topic", "--kafka", infra.kafka
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    topic = await new_topic("notdead", partitions=1)
    await _produce(infra.kafka, f"{topic}.dlq", [(b"k", b"{}", [])])
    plain = await asyncio.to_thread(
        _cli, "replay", "--topic", f"{topic}.dlq", "--kafka", infra.kafka
    )
    assert plain.returncode == 2 and "not a dead letter" in plain.stderr
