"""Consumer groups that start at the log end instead of the beginning.

`python -m bench` starts every service from the beginning of the shared topics, as a new
instance starts (reading that history is part of what it measures). The A/B comparison of the
write path (`bench.write_path_ab`) measures nothing of the history, so it starts purchasing's
groups at the log end.
"""

import importlib
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from etalase_platform.runtime import Subscription

SKIP_HISTORY = ("catalog", "purchasing")


def subscriptions(service: str) -> Sequence[Subscription]:
    handlers = importlib.import_module(f"etalase_{service}.handlers")
    found: Sequence[Subscription] = handlers.subscriptions()
    return found


async def partitions_of(kafka: str, topics: Sequence[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]


async def start_at_log_end(kafka: str, group_id: str, topics: Sequence[str]) -> None:
    partitions = await partitions_of(kafka, topics)
    if not partitions:  # the topics are not there yet: there is no history to skip
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
    finally:
        await consumer.stop()


async def skip_history(kafka: str, service: str, consumer_group: str) -> None:
    """Commits the log end for every consumer `service` runs under `consumer_group`, named as
    the platform runtime names them (`<consumer_group>.<subscription>`)."""
    if service not in SKIP_HISTORY:
        return
    for subscription in subscriptions(service):
        await start_at_log_end(kafka, f"{consumer_group}.{subscription.name}", subscription.topics)
