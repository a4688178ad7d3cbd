"""Where the machine's CPU went during a measurement: each server, PostgreSQL, Kafka, the load
generator, and everything else on the machine (other work skews the figures; this shows how much).

Read from /proc: a process's utime + stime, and the machine's busy time from /proc/stat.
"""

import os
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
Snapshot = dict[str, float]


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # after the command name: state is field 3, utime 14 and stime 15 (1-based, man proc)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _machine_busy_seconds() -> float:
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / _TICKS


def _kind(pid: int) -> str | None:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    if name.startswith("postgres"):
        return "postgresql"
    if b"kafka.Kafka" in command:
        return "kafka"
    return None


def snapshot(servers: Mapping[str, int]) -> Snapshot:
    """CPU seconds so far of each server (by pid), PostgreSQL, Kafka, this process, the machine."""
    taken: Snapshot = {name: _process_seconds(pid) for name, pid in servers.items()}
    taken["load generator"] = _process_seconds(os.getpid())
    taken["postgresql"] = taken["kafka"] = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (kind := _kind(int(entry.name))):
            taken[kind] += _process_seconds(int(entry.name))
    taken["machine"] = _machine_busy_seconds()
    return taken


def usage(before: Snapshot, after: Snapshot, elapsed_s: float) -> dict[str, float]:
    """Cores each used on average between the two snapshots; `other` is the rest of the machine
    (PostgreSQL backends that started and ended in between are counted there too)."""
    cores = {
        name: round((after[name] - before.get(name, 0.0)) / elapsed_s, 2)
        for name in after
        if name != "machine"
    }
    machine = (after["machine"] - before["machine"]) / elapsed_s
    cores["other"] = round(max(0.0, machine - sum(cores.values())), 2)
    cores["machine"] = round(machine, 2)
    return cores
