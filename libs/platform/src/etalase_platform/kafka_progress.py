"""Kafka's side of a consumer's progress: its committed offsets and the lag gauges.

Kafka's copy of the offsets is for operators; the database holds the offsets that matter
(`etalase_platform.offsets`), so the commit need not cost a round trip per batch, and a failed
one is only logged. The lag is known locally (high watermark and position), so it is current
after every batch: a burst drained within a second still shows."""

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from etalase_platform import metrics
from etalase_platform.offsets import Partition

log = logging.getLogger(__name__)


class KafkaProgress:
    def __init__(self, kafka: AIOKafkaConsumer, *, service: str, consumer: str) -> None:
        self._kafka = kafka
        self._service = service
        self._consumer = consumer
        self._uncommitted: dict[TopicPartition, int] = {}

    def applied(self, next_offsets: dict[Partition, int]) -> None:
        for (topic, partition), offset in next_offsets.items():
            self._uncommitted[TopicPartition(topic, partition)] = offset

    async def commit(self) -> None:
        if not self._uncommitted:
            return
        offsets, self._uncommitted = self._uncommitted, {}
        try:
            await self._kafka.commit(offsets)
        except Exception as error:
            log.warning("%s: offset commit failed: %r", self._consumer, error)

    async def record_lag(self) -> None:
        for tp in self._kafka.assignment():
            highwater = self._kafka.highwater(tp)
            if highwater is None:
                continue
            position = await self._kafka.position(tp)
            partition = str(tp.partition)
            labels = (self._service, self._consumer, tp.topic, partition)
            metrics.CONSUMER_LOG_END.labels(*labels).set(highwater)
            metrics.CONSUMER_LAG.labels(*labels).set(max(highwater - position, 0))
