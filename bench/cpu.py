"""Where the machine's CPU went during a measurement: each server, the PostgreSQL backends serving
this run's databases, the rest of PostgreSQL (other databases' backends, WAL writer,
checkpointer, autovacuum), Kafka, the load generator, and the busiest other processes: other work
on a shared machine skews every figure, and this shows by how much.

Read from /proc (each process's utime + stime, the machine's busy time from /proc/stat) and from
`pg_stat_activity` (which backend serves which database). A process that ended between two
snapshots is counted only in `machine`.
"""

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_TICKS = os.sysconf("SC_CLK_TCK")
TOP_OTHERS = 3


@dataclass(frozen=True)
class Process:
    name: str
    seconds: float


def _processes() -> dict[int, Process]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        fields = rest.split()
        # fields from state (3rd in man 5 proc): utime is the 14th, stime the 15th
        found[int(entry.name)] = Process(name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return found


def _machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / _TICKS


def _is_kafka(pid: int) -> bool:
    try:
        return b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass(frozen=True)
class Snapshot:
    at: float
    processes: dict[int, Process]
    backends: frozenset[int]
    machine: float


class CpuMeter:
    def __init__(
        self, servers: Mapping[str, int], postgres_url: str, databases: Sequence[str]
    ) -> None:
        self._servers = {pid: name for name, pid in servers.items()}
        self._servers[os.getpid()] = "load generator"
        self._postgres_url = postgres_url
        self._databases = list(databases)

    async def _backends(self) -> frozenset[int]:
        connection = await asyncpg.connect(self._postgres_url)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                self._databases,
            )
        finally:
            await connection.close()
        return frozenset(row["pid"] for row in rows)

    async def snapshot(self) -> Snapshot:
        backends = await self._backends()
        processes, machine = await asyncio.to_thread(
            lambda: (_processes(), _machine_busy_seconds())
        )
        return Snapshot(time.perf_counter(), processes, backends, machine)

    def _group(self, pid: int, process: Process, backends: frozenset[int]) -> str:
        if pid in self._servers:
            return self._servers[pid]
        if pid in backends:
            return "postgresql"
        if process.name.startswith("postgres"):
            return "postgresql (rest)"
        if process.name == "java" and _is_kafka(pid):
            return "kafka"
        return f"{process.name}[{pid}]"

    def usage(self, before: Snapshot, after: Snapshot) -> dict[str, float]:
        """Cores each group used on average between the snapshots; the busiest other processes
        by name[pid], the rest as `other`, and `machine` for all of it."""
        elapsed = after.at - before.at
        spent: dict[str, float] = dict.fromkeys(self._servers.values(), 0.0)
        spent |= {"postgresql": 0.0, "postgresql (rest)": 0.0, "kafka": 0.0}
        backends = before.backends | after.backends
        for pid, process in after.processes.items():
            earlier = before.processes.get(pid)
            # a process that started in between is new: all its time is the window's
            delta = process.seconds - (earlier.seconds if earlier else 0.0)
            group = self._group(pid, process, backends)
            spent[group] = spent.get(group, 0.0) + delta
        named = set(self._servers.values()) | {"postgresql", "postgresql (rest)", "kafka"}
        others = sorted((k for k in spent if k not in named), key=spent.__getitem__, reverse=True)
        cores = {name: round(spent[name] / elapsed, 2) for name in [*named, *others[:TOP_OTHERS]]}
        machine = (after.machine - before.machine) / elapsed
        cores["other"] = round(max(0.0, machine - sum(cores.values())), 2)
        cores["machine"] = round(machine, 2)
        return dict(sorted(cores.items(), key=lambda item: -item[1]))


async def settle(*, limit_s: float, quiet_cores: float = 0.25) -> dict[str, float]:
    """Waits until what ran before has finished (autovacuum of its tables, PostgreSQL writing
    its dirty buffers, Kafka flushing its log): the machine must stay under `quiet_cores` busy
    for a window, since on two cores a busy neighbour skews every figure. Returns how long it
    waited and how busy the last window was; gives up after `limit_s`."""
    started = time.perf_counter()
    window = 2.0
    while True:
        before = _machine_busy_seconds()
        await asyncio.sleep(window)
        busy = (_machine_busy_seconds() - before) / window
        waited = time.perf_counter() - started
        if busy < quiet_cores or waited >= limit_s:
            return {"waited_s": round(waited, 1), "busy_cores": round(busy, 2)}
