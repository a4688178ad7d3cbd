"""The `etalase` command:

etalase token --role ROLE [--region R] [--opd O] [--vendor-id V]   a token for local use
etalase relay --database-url URL                                   an extra outbox relay
etalase dlq list|replay --topic T.dlq [--partition P --offset O] [--consumer C]
"""

import argparse
import asyncio
import os
import sys
from datetime import timedelta

from etalase_platform.auth import Role, mint_token
from etalase_platform.settings import DEV_JWT_SECRET

KAFKA = "localhost:9092"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="etalase")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a signed JWT for local use")
    token.add_argument("--role", required=True, choices=[role.value for role in Role])
    token.add_argument("--region")
    token.add_argument("--opd")
    token.add_argument("--vendor-id")
    token.add_argument("--sub")
    token.add_argument("--hours", type=float, default=8.0)
    relay = commands.add_parser("relay", help="run an outbox relay for one service database")
    relay.add_argument("--database-url", required=True)
    relay.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", KAFKA))
    relay.add_argument("--name", default="relay")
    relay.add_argument("--batch-size", type=int, default=500)
    dead = commands.add_parser("dlq", help="dead-letter topics")
    dlq_commands = dead.add_subparsers(dest="dlq_command", required=True)
    for name, text in (
        ("list", "print the dead letters of a DLQ topic"),
        ("replay", "publish dead letters again to the topics they came from"),
    ):
        sub = dlq_commands.add_parser(name, help=text)
        sub.add_argument("--topic", required=True, help="the DLQ topic, e.g. <topic>.dlq")
        sub.add_argument("--partition", type=int)
        sub.add_argument("--offset", type=int, help="only this record (with --partition)")
        sub.add_argument("--consumer", help="only those this consumer dead-lettered")
        sub.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", KAFKA))
    args = parser.parse_args(argv)
    if args.command == "relay":
        asyncio.run(_run_relay(args.database_url, args.kafka, args.name, args.batch_size))
        return 0
    if args.command == "dlq":
        if args.offset is not None and args.partition is None:
            parser.error("--offset needs --partition")
        return asyncio.run(_dead_letters(args))

    secret = os.environ.get("ETALASE_JWT_SECRET")
    if secret is None:
        if os.environ.get("ETALASE_ENV") == "prod":
            print("ETALASE_JWT_SECRET must be set when ETALASE_ENV=prod", file=sys.stderr)
            return 2
        secret = DEV_JWT_SECRET
    print(
        mint_token(
            secret,
            role=args.role,
            sub=args.sub,
            region=args.region,
            opd=args.opd,
            vendor_id=args.vendor_id,
            ttl=timedelta(hours=args.hours),
        )
    )
    return 0


async def _run_relay(database_url: str, kafka: str, name: str, batch_size: int) -> None:
    """A relay on its own, e.g. to drain a backlog beside the service or in a test."""
    from etalase_platform.db import create_engine
    from etalase_platform.outbox import OutboxRelay, kafka_producer

    engine = create_engine(database_url, pool_size=2)
    producer = kafka_producer(kafka, name)
    await producer.start()
    try:
        await OutboxRelay(engine, producer, service=name, batch_size=batch_size).run_forever()
    finally:
        await producer.stop()
        await engine.dispose()


async def _dead_letters(args: argparse.Namespace) -> int:
    from etalase_platform.dlq import read_dead_letters, replay

    try:
        letters = await read_dead_letters(
            args.kafka,
            args.topic,
            partition=args.partition,
            offset=args.offset,
            consumer=args.consumer,
        )
    except ValueError as error:
        print(f"etalase dlq: {error}", file=sys.stderr)
        return 2
    for letter in letters:
        print(
            f"{args.topic}[{letter.partition}]@{letter.offset} -> {letter.original_topic}"
            f" consumer={letter.consumer} reason={letter.reason[:200]}"
        )
    if args.dlq_command == "replay":
        await replay(args.kafka, letters)
        print(f"replayed {len(letters)} record(s)")
    elif not letters:
        print("no dead letters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
