"""docs/benchmarks.md, generated from one run's results."""

from pathlib import Path
from typing import Any

from bench.report import Row, table

METHOD = """\
- **Order write path**: 32 clients in a closed loop (each sends its next request when the last one
  answered) driven by `wrk` (one thread, 32 connections, a Lua script handing out requests
  prepared beforehand, each used once; `bench/wrk.py`; httpx when wrk is not installed), a warm-up
  run that is not counted and then a fixed window; the figure is 201s per second in the window and
  the generator's CPU is the kernel's account of the finished wrk process. Every order is a
  seeded random choice of OPD (each with its own budget), vendor and one to three of its products,
  with its own `Idempotency-Key`, a buyer token of the OPD, and the `POST /orders` body of
  api.md. The **baseline** is `bench/baseline_app.py`: FastAPI under uvicorn (one process, like
  each service) inserting the same body as one row with asyncpg, taking the same kind of requests
  from the same generator first. The CPU
  each request cost (server, and the PostgreSQL backends of its database) is given next to the
  rates: it moves much less with other load than the rates do. When the load generator used a
  whole core the row says so: the server could then have served more than the figure.
- **Outbox relay**: rows pre-written (COPY) to the outbox of a fresh database with the platform
  tables, then one `OutboxRelay` (default batch size, tracing set up as in a service) publishes
  them until all are acknowledged by Kafka (acks=all) and marked. The **raw** figure is one aiokafka
  producer with the platform's producer settings sending the same records (same size, keys and
  headers) with up to 10,000 in flight. Both go to a fresh 6-partition topic; the CPU per event is
  the benchmark process's own.
- **Projection catch-up**: `bench/projection.py` (reporting's): N order events on a topic of their
  own applied by reporting's projector, next to a raw aiokafka consume of the same topic and a
  naive projector that commits one transaction per event. The **N processes** row runs the same
  consumer and projector as N OS processes of one consumer group (`processes_rate`; the topic's
  6 partitions shared among them) into one database, from the first batch any of them received
  to the last event applied; a process that joins late triggers a rebalance, which is counted.
- **Catalog and purchasing views**: `bench/views.py`: each service's own subscription (its
  projector and inbox as `handlers.subscriptions()` declares them) through the platform's consumer
  into a fresh database, from the start of an N-event log on topics of the run's own.
  Purchasing's log: vendors registered, then products listed (3/4) and price changes, TKDN
  certificates, delistings and relistings of them; catalog's: vendors registered, verified, with
  profile updates, suspensions and reinstatements. A view still building after 120 s is stopped
  and reported at what it applied by then.
- **End-to-end freshness**: orders sent at a fixed arrival rate (open model: order i is due at
  start + i / rate, whether or not earlier ones answered; at most 64 in flight, and an order
  already 10 s overdue is not sent but counted as dropped, so an overloaded service shows as
  such instead of stretching the run; sent by `bench/rawhttp.py`, a keep-alive HTTP/1.1 client at
  about 0.07 ms of CPU per request where httpx took 2 ms) while a poller reads
  `GET /compliance/opd?fiscal_year=&region_code=` as an auditor back to back. When an OPD's
  `placed.orders` grows, the orders it now covers (in the order of their 201s; one OPD's orders
  are serialised on its budget row) were first counted at the moment that read answered, so the
  figures are late rather than early by up to one poll round trip (given in the figures below).
  The first seconds are warm-up. Before each measurement the harness waits until reporting counts
  every order placed so far. When the target rate is more than half the write capacity measured
  just before, the same measurement also runs at that half (in the baseline column): the
  pipeline's own latency, apart from overload.
- **Memory**: the kernel's high-water mark of each service process's resident set (`VmHWM` in
  `/proc/<pid>/status`) when it is stopped at the end of the run, which covers every phase above
  that ran against the services, catalog's and purchasing's views built from the start of the
  shared topics, and, last, a rebuild of reporting's projections (`POST /projections/rebuild`,
  until the new generation is live) while the services run; each row gives the peak before the
  rebuild too.
- Services run as `python -m etalase_<service>.main` subprocesses on free ports, each with a
  fresh database and a consumer group of its own: each reads the shared topics from their
  beginning, as a new instance does (they hold whatever earlier runs and test suites left; the
  time that took is `shared_topic_history_read_s` below), and the harness waits for every
  consumer to catch up before measuring. Products reach purchasing as ProductListed events on the
  products topic. Kafka, PostgreSQL, the services and the load generator share the machine; where
  the CPU went during each measurement (including other processes) is in the figures below.
"""


def _details(results: dict[str, Any]) -> list[str]:
    lines = []
    keys = (
        "setup",
        "write_path",
        "relay",
        "projection",
        "views",
        "freshness_sustainable",
        "freshness",
        "rebuild",
    )
    for key in (*keys, "memory"):
        figures = results.get(key)
        if figures is None:
            continue
        lines.append(f"- **{key}**:")
        for name, value in figures.items():
            if name == "traceback":
                continue
            if isinstance(value, dict):
                inner = ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
                lines.append(f"  - {name}: {inner}")
            else:
                lines.append(f"  - {name}: {_fmt(value)}")
    return lines


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k} {_fmt(v)}" for k, v in value.items()) + ")"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render(results: dict[str, Any], rows: list[Row], findings: Path | None = None) -> str:
    m = results["machine"]
    parts = [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` ({results['mode']} run), started"
        f" {results['started_at'].replace('T', ' ')}. Do not edit: run it again (`make bench`;"
        " `make bench BENCH_ARGS=--quick` for the smoke-sized run).",
        "",
        "## Machine",
        "",
        f"- {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, {m['os']}",
        f"- Python {m['python']}, Kafka {m['kafka']}, PostgreSQL {m['postgresql']}",
        "- Kafka, PostgreSQL, the services, the baseline and the load generator all share the"
        f" machine; its 1-minute load average when the run began: {m['load_average_1m_at_start']}",
        "",
        "## Results",
        "",
        table(rows),
        "",
    ]
    if results["mode"] == "quick":
        parts += ["Quick run: sizes too small for the figures to mean much.", ""]
    if findings is not None and findings.exists():
        parts += [findings.read_text().rstrip(), ""]
    parts += ["## Method", "", METHOD, "## Figures of this run", "", *_details(results), ""]
    return "\n".join(parts)
