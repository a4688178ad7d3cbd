"""Where the machine's CPU went during a measurement: each server, the PostgreSQL backends serving
this run's databases, Kafka, the load generator, and everything else on the machine (other work
skews the figures; this shows how much).

Read from /proc (a process's utime + stime; the machine's busy time from /proc/stat) and from
`pg_stat_activity` (which backend serves which database). A process that ended between two
snapshots is counted under `other`.
"""

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_TICKS = os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after the command name: state is field 3, utime 14 and stime 15 (1-based, man 5 proc)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / _TICKS


def _kafka_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"kafka.Kafka" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass(frozen=True)
class Snapshot:
    at: float
    groups: dict[str, dict[int, float]]
    """CPU seconds so far per pid, by group (a server, `postgresql`, `kafka`, ...)."""
    machine: float


class CpuMeter:
    def __init__(
        self, servers: Mapping[str, int], postgres_url: str, databases: Sequence[str]
    ) -> None:
        self._servers = dict(servers)
        self._postgres_url = postgres_url
        self._databases = list(databases)
        self._kafka = _kafka_pids()

    async def _backends(self) -> list[int]:
        connection = await asyncpg.connect(self._postgres_url)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                self._databases,
            )
        finally:
            await connection.close()
        return [row["pid"] for row in rows]

    def _read(self, backends: list[int]) -> Snapshot:
        pids = {
            **{name: [pid] for name, pid in self._servers.items()},
            "load generator": [os.getpid()],
            "postgresql": backends,
            "kafka": self._kafka,
        }
        groups: dict[str, dict[int, float]] = {}
        for name, members in pids.items():
            seconds = {pid: _process_seconds(pid) for pid in members}
            groups[name] = {pid: s for pid, s in seconds.items() if s is not None}
        return Snapshot(time.perf_counter(), groups, _machine_busy_seconds())

    async def snapshot(self) -> Snapshot:
        backends = await self._backends()
        return await asyncio.to_thread(self._read, backends)

    @staticmethod
    def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
        """Cores each group used on average between the snapshots, `other` the rest of the
        machine's busy time, `machine` all of it."""
        elapsed = after.at - before.at
        cores: dict[str, float] = {}
        for name, now in after.groups.items():
            earlier = before.groups.get(name, {})
            # a backend that started in between is new: all its time is the window's
            spent = sum(seconds - earlier.get(pid, 0.0) for pid, seconds in now.items())
            cores[name] = round(spent / elapsed, 2)
        machine = (after.machine - before.machine) / elapsed
        cores["other"] = round(max(0.0, machine - sum(cores.values())), 2)
        cores["machine"] = round(machine, 2)
        return cores
