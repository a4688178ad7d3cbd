"""Create the Etalase topics and their dead-letter topics, idempotently.

    python deploy/topics.py [--bootstrap-servers HOST:PORT] [--timeout SECONDS]

Bootstrap from --bootstrap-servers, else KAFKA_BOOTSTRAP_SERVERS, else localhost:9092. Topics that
already exist are left alone (a warning when their partition count differs).
"""

import argparse
import asyncio
import logging
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code
from etalase_events.topics import ALL_TOPICS as TOPICS
from etalase_events.topics import PARTITIONS, dlq

REPLICATION_FACTOR = 1
# The log is the system of record: reporting rebuilds its projections from its start.
# (Test and benchmark topics keep the broker's 24-hour default.)
KEEP_FOREVER = {"retention.ms": "-1"}

TOPIC_ALREADY_EXISTS = 36
RETRIABLE_CODES = {5, 7, 41, 51}  # leader not available, request timed out, not controller, ...


def wanted_topics() -> list[str]:
    return [name for topic in TOPICS for name in (topic, dlq(topic))]


async def ensure_topics(bootstrap_servers: str, timeout: float) -> list[str]:
    """Create what is missing; return the names created."""
    deadline = time.monotonic() + timeout
    created: list[str] = []
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="etalase-topics",
            request_timeout_ms=15000,
        )
        try:
            await admin.start()
            existing = await admin.describe_topics(wanted_topics())
            partitions = {
                t["topic"]: len(t["partitions"]) for t in existing if t["error_code"] == 0
            }
            missing = [name for name in wanted_topics() if name not in partitions]
            for name, count in sorted(partitions.items()):
                if count != PARTITIONS:
                    print(f"topics: warning: {name} has {count} partitions, not {PARTITIONS}")
            if not missing:
                return created
            response = await admin.create_topics(
                [
                    NewTopic(name, PARTITIONS, REPLICATION_FACTOR, topic_configs=KEEP_FOREVER)
                    for name in missing
                ],
                timeout_ms=15000,
            )
            retry = False
            for result in response.topic_errors:
                name, code = result[0], result[1]
                if code == 0:
                    created.append(name)
                elif code in RETRIABLE_CODES:
                    retry = True
                elif code != TOPIC_ALREADY_EXISTS:
                    message = result[2] if len(result) > 2 else ""
                    raise for_code(code)(f"creating {name}: {message}")
            if not retry:
                return created
            error: Exception = RuntimeError("retriable error while creating topics")
        except Exception as failure:
            if not _retriable(failure):
                raise
            error = failure
        finally:
            await admin.close()
        if time.monotonic() >= deadline:
            raise TimeoutError(f"topics not created within {timeout:.0f}s: {error!r}")
        await asyncio.sleep(1)


def _retriable(error: Exception) -> bool:
    return bool(getattr(error, "retriable", False)) or isinstance(
        error, (OSError, asyncio.TimeoutError, RuntimeError)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "localhost:9092",
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    try:
        created = asyncio.run(ensure_topics(args.bootstrap_servers, args.timeout))
    except Exception as error:
        print(f"topics: failed against {args.bootstrap_servers}: {error!r}", file=sys.stderr)
        return 1
    wanted = wanted_topics()
    if created:
        print(f"topics: created {', '.join(created)}")
    print(f"topics: {len(wanted)} topics present on {args.bootstrap_servers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
