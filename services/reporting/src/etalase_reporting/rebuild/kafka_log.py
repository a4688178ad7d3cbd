"""Where the log begins and ends, per partition: for rebuilds and for lag."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from etalase_platform.outages import KAFKA, DependencyUnavailable

from etalase_reporting.rebuild.generations import LogEnd

ANSWER_WITHIN_SECONDS = 5.0


class LogReader:
    """Reads partition lists and offsets without joining any consumer group."""

    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=client_id)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, enable_auto_commit=False
        )

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def offsets(self, topics: Sequence[str]) -> LogEnd:
        """topic → partition → (beginning offset, end offset), now; `DependencyUnavailable`
        when the broker does not answer in time (its clients would wait far longer)."""
        try:
            return await asyncio.wait_for(self._offsets(topics), ANSWER_WITHIN_SECONDS)
        except (TimeoutError, KafkaError) as error:
            detail = f"the Kafka log cannot be read: {error!r}"
            raise DependencyUnavailable(KAFKA, detail) from error

    async def _offsets(self, topics: Sequence[str]) -> LogEnd:
        described = await self._admin.describe_topics(list(topics))
        partitions = [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            for partition in topic["partitions"]
        ]
        if not partitions:
            return {}
        beginnings = await self._consumer.beginning_offsets(partitions)
        ends = await self._consumer.end_offsets(partitions)
        log: LogEnd = {}
        for tp in sorted(partitions):
            log.setdefault(tp.topic, {})[tp.partition] = (beginnings[tp], ends[tp])
        return log
