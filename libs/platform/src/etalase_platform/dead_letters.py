"""Dead letters: a record a consumer can never apply is copied to `<topic>.dlq` with why, and the
consumer goes on (`etalase_platform.dlq` replays them after a fix)."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from etalase_events.codec import without_binary_mode_headers
from etalase_events.topics import dlq

from etalase_platform import metrics
from etalase_platform.decoding import Poison


class DeadLetters:
    def __init__(self, producer: AIOKafkaProducer, *, service: str, consumer: str) -> None:
        self._producer = producer
        self._service = service
        self._consumer = consumer

    async def send(self, poison: Sequence[Poison]) -> None:
        """Returns once the broker has every one of them."""
        if not poison:
            return
        sent = []
        for item in poison:
            record = item.record
            # a record written before the no-`ce_*` rule is copied without its `ce_type`, so
            # the dead letter parses with the CloudEvents SDKs like any other record
            headers = [*without_binary_mode_headers(record.headers or ()), *self._headers(item)]
            sent.append(
                await self._producer.send(
                    dlq(record.topic), value=record.value, key=record.key, headers=headers
                )
            )
            metrics.DEAD_LETTERS.labels(self._service, self._consumer, record.topic).inc()
        await asyncio.gather(*sent)

    def _headers(self, item: Poison) -> list[tuple[str, bytes]]:
        record = item.record
        return [
            ("dlq_reason", item.reason[:1000].encode()),
            ("dlq_consumer", self._consumer.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
