"""An idempotent consumer as its own process, so that a test can kill it mid-batch.

usage: consumer_process.py DATABASE_URL KAFKA TOPIC GROUP SOURCE SECONDS_PER_BATCH
"""

import asyncio
import sys
from collections.abc import Sequence

from etalase_platform.consumer import Delivery, IdempotentConsumer
from etalase_platform.db import create_engine, session_factory
from etalase_platform.outbox import kafka_producer
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.platform.support import RecordEffects


class SlowEffects(RecordEffects):
    def __init__(self, source: str, pause: float) -> None:
        super().__init__(source)
        self.pause = pause

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        await super().apply(session, deliveries)
        await asyncio.sleep(self.pause)  # inside the transaction: a kill lands mid-batch


async def main(
    database_url: str, kafka: str, topic: str, group: str, source: str, pause: str
) -> None:
    engine = create_engine(database_url, pool_size=2)
    producer = kafka_producer(kafka, "dlq")
    await producer.start()
    consumer = IdempotentConsumer(
        name="effects",
        service="test",
        topics=[topic],
        projector=SlowEffects(source, float(pause)),
        sessions=session_factory(engine),
        bootstrap_servers=kafka,
        group_id=group,
        dlq_producer=producer,
        batch_size=200,
    )
    await consumer.start()
    await consumer.run_forever()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:7]))
