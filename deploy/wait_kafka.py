"""Wait until a Kafka broker answers a real client call (metadata through the admin client).

    python deploy/wait_kafka.py [--bootstrap-servers HOST:PORT] [--timeout SECONDS] [--pid PID]

An open port is not enough: a KRaft broker accepts connections before it has registered with its
controller. Ready means a metadata request returns at least one broker. Exit status: 0 ready,
1 timed out, 2 the process given by --pid exited first (the broker died while starting).
"""

import argparse
import asyncio
import logging
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


async def _probe(bootstrap_servers: str, timeout: float) -> int:
    """The number of brokers in the cluster's metadata (raises when the broker does not answer)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="etalase-wait-kafka",
        request_timeout_ms=max(1000, int(timeout * 1000)),
    )
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            cluster = await admin.describe_cluster()
            await admin.list_topics()
        return len(cluster.get("brokers", []))
    finally:
        await admin.close()


async def wait(bootstrap_servers: str, timeout: float, pid: int | None) -> int:
    deadline = time.monotonic() + timeout
    last_error = "no attempt made"
    while True:
        if pid is not None and not _alive(pid):
            print(f"wait_kafka: process {pid} exited before the broker answered", file=sys.stderr)
            return 2
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            brokers = await _probe(bootstrap_servers, min(5.0, max(remaining, 0.5)))
        except Exception as error:
            last_error = f"{type(error).__name__}: {error}"
        else:
            if brokers > 0:
                return 0
            last_error = "metadata lists no broker yet"
        await asyncio.sleep(min(0.5, max(deadline - time.monotonic(), 0)))
    print(
        f"wait_kafka: no answer from {bootstrap_servers} within {timeout:.0f}s ({last_error})",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "localhost:9092",
    )
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds (default 90)")
    parser.add_argument("--pid", type=int, help="give up early when this process exits")
    args = parser.parse_args(argv)
    # aiokafka logs every refused connection at ERROR: noise while the broker is starting.
    logging.basicConfig(level=logging.CRITICAL)
    return asyncio.run(wait(args.bootstrap_servers, args.timeout, args.pid))


if __name__ == "__main__":
    sys.exit(main())
