"""The results as a table (printed, and in docs/benchmarks.md) and as JSON."""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.processes import SERVICES

MEMORY_LIMIT_MIB = 250.0
FRESHNESS_P99_MS = 250.0


@dataclass(frozen=True)
class Row:
    what: str
    measured_as: str
    result: str
    baseline: str
    ratio: str
    target: str
    met: bool | None
    """None when the benchmark did not run (its error is in `result`)."""


def _n(value: float, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return f"{text} {unit}".strip()


def _failed(results: dict[str, Any], key: str) -> str | None:
    """Why `key` has no figures (its error, or the setup's), or None when it has them."""
    found = results.get(key)
    if found is None:
        setup = results.get("setup", {})
        return "not run: " + str(setup.get("error", "setup did not finish"))
    if "error" in found:
        return "error: " + str(found["error"]).splitlines()[0][:200]
    return None


def _generator(run: dict[str, Any], *, per: str = "request") -> str:
    """The load generator's own CPU, beside every figure it drove."""
    cores = run.get("cpu_cores", {}).get("load generator")
    if cores is None:
        return ""
    spent = run.get("cpu_ms_per_request", {}).get("load generator")
    per_request = f", {spent:.2f} ms per {per}" if spent is not None else ""
    bound = "; client-bound" if cores >= 0.9 else ""
    return f"; load generator {cores:.2f} cores{per_request}{bound}"


def _cpu(run: dict[str, Any], server: str) -> str:
    spent = run.get("cpu_ms_per_request", {})
    if not spent:
        return "—"
    return f"{server} {spent[server]:.1f} ms + PostgreSQL {spent['postgresql']:.1f} ms"


def _server_cpu_ms(run: dict[str, Any], server: str) -> float | None:
    spent = run.get("cpu_ms_per_request", {})
    return spent[server] + spent["postgresql"] if spent else None


WRITE_RATE_RATIO, WRITE_CPU_RATIO = 0.5, 3.0


def _write_path(results: dict[str, Any]) -> Row:
    what, measured = "order write path", "orders/s through `POST /orders`, 32 closed-loop clients"
    target = (
        f">= {WRITE_RATE_RATIO} of baseline's rate; purchasing + PostgreSQL CPU per order"
        f" <= {WRITE_CPU_RATIO:.0f}x baseline's per request"
    )
    if error := _failed(results, "write_path"):
        return Row(what, measured, error, "bare FastAPI + asyncpg insert", "—", target, None)
    figures = results["write_path"]
    orders, baseline = figures["orders"], figures["baseline"]
    generator = figures.get("load_generator", "httpx")
    measured = (
        f"orders/s through `POST /orders`, {figures['clients']} closed-loop clients ({generator})"
    )
    result = (
        f"{_n(orders['per_s'], 'orders/s')} (p50 {_n(orders['latency_p50_ms'], 'ms')},"
        f" p99 {_n(orders['latency_p99_ms'], 'ms')}, {orders['errors']} errors;"
        f" CPU per order: {_cpu(orders, 'purchasing')}{_generator(orders, per='order')})"
    )
    base = (
        f"bare FastAPI + asyncpg insert: {_n(baseline['per_s'], 'req/s')}"
        f" (CPU per request: {_cpu(baseline, 'baseline')}{_generator(baseline)})"
    )
    ratio = figures["ratio"]
    order_cpu, base_cpu = _server_cpu_ms(orders, "purchasing"), _server_cpu_ms(baseline, "baseline")
    cpu_ratio = order_cpu / base_cpu if order_cpu is not None and base_cpu else None
    ratios = f"{ratio:.2f} of the rate"
    if cpu_ratio is not None:
        ratios += f", {cpu_ratio:.1f}x the CPU"
    ok = (
        ratio >= WRITE_RATE_RATIO
        and cpu_ratio is not None
        and cpu_ratio <= WRITE_CPU_RATIO
        and orders["errors"] == 0
    )
    return Row(what, measured, result, base, ratios, target, ok)


NO_GENERATOR = "no load generator: the events were written beforehand"


def _relay(results: dict[str, Any]) -> Row:
    what = "outbox relay"
    measured = "events/s from outbox rows to Kafka acks (one `OutboxRelay`)"
    target = ">= 0.5 of raw"
    if error := _failed(results, "relay"):
        return Row(what, measured, error, "raw aiokafka producer, acks=all", "—", target, None)
    figures = results["relay"]
    measured += f", {figures['events']:,} events of {figures['message_bytes']} B"
    base = f"raw aiokafka producer, acks=all: {_n(figures['raw_per_s'], 'events/s')}"
    ratio = figures["ratio"]
    result = (
        f"{_n(figures['relay_per_s'], 'events/s')}"
        f" ({figures['relay_cpu_us_per_event']:.0f} µs CPU/event;"
        f" raw {figures['raw_cpu_us_per_event']:.0f} µs; {NO_GENERATOR})"
    )
    return Row(what, measured, result, base, f"{ratio:.2f}", target, ratio >= 0.5)


PROJECTION_OF_RAW, PROJECTION_OF_DECODED, PROJECTION_OF_NAIVE = 0.2, 0.6, 100


def _projection(results: dict[str, Any]) -> Row:
    what = "projection catch-up, one process"
    measured = "events/s applying N events from Kafka (`bench.projection`)"
    target = (
        f">= {PROJECTION_OF_RAW} of raw, >= {PROJECTION_OF_DECODED} of consume and decode,"
        f" >= {PROJECTION_OF_NAIVE}x naive"
    )
    if error := _failed(results, "projection"):
        return Row(what, measured, error, "raw consume; naive projector", "—", target, None)
    figures = results["projection"]
    rates = projection_rates(figures)
    if "events" in figures:
        measured = f"events/s applying {int(figures['events']):,} events from Kafka"
    base = (
        f"raw aiokafka consume: {_n(rates['raw'], 'events/s')};"
        f" naive (one transaction per event): {_n(rates['naive'], 'events/s')}"
    )
    of_raw = rates["projector"] / rates["raw"] if rates["raw"] else 0.0
    of_naive = rates["projector"] / rates["naive"] if rates["naive"] else 0.0
    ratio = f"{of_raw:.2f} of raw, {of_naive:.0f}x naive"
    ok = of_raw >= PROJECTION_OF_RAW and of_naive >= PROJECTION_OF_NAIVE
    if decoded := rates.get("decoded"):
        base += f"; consume and decode only: {_n(decoded, 'events/s')}"
        ratio += f", {rates['projector'] / decoded:.2f} of consume and decode"
        ok = ok and rates["projector"] / decoded >= PROJECTION_OF_DECODED
    result = f"{_n(rates['projector'], 'events/s')} ({NO_GENERATOR})"
    return Row(what, measured, result, base, ratio, target, ok)


def _projection_processes(results: dict[str, Any]) -> Row:
    what = "projection catch-up, N processes"
    measured = "the same events applied by N processes of one consumer group over 6 partitions"
    target = "reported beside one process"
    if error := _failed(results, "projection"):
        return Row(what, measured, error, "one process", "—", target, None)
    figures = results["projection"]
    if "processes_events_per_s" not in figures:
        return Row(what, measured, "not measured (an older run)", "—", "—", target, None)
    processes = int(figures["processes"])
    what = f"projection catch-up, {processes} processes"
    measured = (
        f"the same {int(figures['events']):,} events applied by {processes} processes of one"
        " consumer group over the topic's partitions, into one database"
    )
    result = f"{_n(figures['processes_events_per_s'], 'events/s')} ({NO_GENERATOR})"
    base = f"one process: {_n(figures['projector_events_per_s'], 'events/s')}"
    ratio = f"{figures['processes_vs_one']:.2f}x one process"
    return Row(what, measured, result, base, ratio, target, True)


VIEWS_PER_S = 10_000


def _views(results: dict[str, Any]) -> Row:
    what = "catalog and purchasing views from the start of the log"
    measured = "events/s building each view from the start of an N-event log (`bench.views`)"
    target = f">= {VIEWS_PER_S:,} events/s each"
    if error := _failed(results, "views"):
        return Row(what, measured, error, "—", "—", target, None)
    figures = results["views"]
    measured = (
        f"events/s building each service's view from the start of a {figures['events']:,}-event"
        " log, its own consumer and projector (`bench.views`)"
    )
    parts, ok = [], True
    for service in ("purchasing", "catalog"):
        view = figures[service]
        part = f"{service} {_n(view['per_s'], 'events/s')}"
        if view.get("stopped_at_limit"):
            part += f" (stopped at the time limit, {int(view['applied']):,} applied)"
        parts.append(part)
        ok = ok and view["per_s"] >= VIEWS_PER_S
    result = "; ".join(parts) + f" ({NO_GENERATOR})"
    return Row(what, measured, result, "—", "—", target, ok)


def projection_rates(figures: dict[str, Any]) -> dict[str, float]:
    """The rates of `bench.projection.measure` (results of older runs lack `decoded`)."""
    rates = {
        "projector": float(figures["projector_events_per_s"]),
        "raw": float(figures["raw_consume_events_per_s"]),
        "naive": float(figures["naive_events_per_s"]),
    }
    if "consume_and_decode_events_per_s" in figures:
        rates["decoded"] = float(figures["consume_and_decode_events_per_s"])
    return rates


def _freshness(results: dict[str, Any]) -> Row:
    what = "end-to-end freshness"
    measured = "`POST /orders` 201 → counted by `GET /compliance/opd`, open model"
    target = f"p99 < {FRESHNESS_P99_MS:.0f} ms"
    if error := _failed(results, "freshness"):
        return Row(what, measured, error, "—", "—", target, None)
    f = results["freshness"]
    measured = (
        f"`POST /orders` 201 → counted by `GET /compliance/opd`, {f['rate_per_s']:.0f} orders/s"
        f" for {f['duration_s']:.0f} s (open model)"
    )
    result = f"{_percentiles(f)}{_split(f)}{_generator(f)}"
    problems = []
    if f["orders_never_counted"]:
        problems.append(f"{f['orders_never_counted']} never counted")
    if f["orders_failed"]:
        statuses = ", ".join(f"{n}x {s}" for s, n in f.get("failed_statuses", {}).items())
        problems.append(f"{f['orders_failed']} POSTs failed ({statuses})")
    if f["orders_dropped"]:
        problems.append(
            f"overloaded: {f['orders_dropped']} of {f['orders_offered']} orders not sent,"
            f" {f['accepted_per_s']:.0f} orders/s taken"
        )
    if problems:
        result += f" ({', '.join(problems)})"
    ok = f["p99_ms"] < FRESHNESS_P99_MS and not problems
    return Row(what, measured, result, _sustainable(results), "—", target, ok)


def _sustainable(results: dict[str, Any]) -> str:
    """The same measurement at half the measured write capacity, when the target rate is more."""
    if "freshness_sustainable" not in results:
        return "—"
    if error := _failed(results, "freshness_sustainable"):
        return f"at half the write capacity: {error}"
    f = results["freshness_sustainable"]
    return (
        f"at {f['rate_per_s']:.0f} orders/s (half the write capacity):"
        f" {_percentiles(f)}{_split(f)}{_generator(f)}"
    )


def _percentiles(f: dict[str, Any]) -> str:
    return f"p50 {_n(f['p50_ms'])} / p95 {_n(f['p95_ms'])} / p99 {_n(f['p99_ms'])} ms"


def _split(f: dict[str, Any]) -> str:
    """Where the p99 goes: the relay's part and reporting's part."""
    relay, reporting = f.get("split_201_to_kafka"), f.get("split_kafka_to_counted")
    if not relay or not reporting:
        return ""
    return (
        f" (p99 201 → on Kafka {_n(relay['p99_ms'])} ms,"
        f" on Kafka → counted {_n(reporting['p99_ms'])} ms)"
    )


def _memory(results: dict[str, Any]) -> list[Row]:
    rows = []
    memory = results.get("memory", {})
    rebuild = results.get("rebuild", {})
    measured = "peak RSS of the service process over the whole run (VmHWM)"
    if "seconds" in rebuild:
        measured += (
            f", which includes reporting's rebuild of {rebuild['log_events']:,} events"
            f" ({rebuild['seconds']:.0f} s) and every view built from the start of the topics"
        )
    elif rebuild:
        measured += f" (reporting's rebuild: {_failed(results, 'rebuild')})"
    for service in SERVICES:
        what = f"memory: {service}"
        target = f"< {MEMORY_LIMIT_MIB:.0f} MiB"
        peak = memory.get(service, {}).get("peak_rss_mib")
        if peak is None:
            reason = _failed(results, "setup") or "not measured"
            rows.append(Row(what, measured, reason, "—", "—", target, None))
            continue
        result = _n(peak, "MiB")
        before = rebuild.get("peak_rss_mib_before", {}).get(service)
        if before is not None:
            result += f" ({_n(before, 'MiB')} before the rebuild)"
        rows.append(Row(what, measured, result, "—", "—", target, peak < MEMORY_LIMIT_MIB))
    return rows


def rows(results: dict[str, Any]) -> list[Row]:
    return [
        _write_path(results),
        _relay(results),
        _projection(results),
        _projection_processes(results),
        _views(results),
        _freshness(results),
        *_memory(results),
    ]


def _mark(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "—"}[met]


def table(all_rows: list[Row]) -> str:
    header = "| what | measured as | result | baseline in the same run | ratio | target | met |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for r in all_rows:
        cells = [r.what, r.measured_as, r.result, r.baseline, r.ratio, r.target, _mark(r.met)]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def write_json(results: dict[str, Any], all_rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**results, "rows": [asdict(r) for r in all_rows]}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
