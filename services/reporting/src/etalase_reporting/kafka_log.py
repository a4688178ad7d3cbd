"""Where the log begins and ends, per partition: for rebuilds and for lag."""

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from etalase_reporting.generations import LogEnd


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
        """topic → partition → (beginning offset, end offset), now."""
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
