"""Projection workers: `REPORTING_PROJECTION_PROCESSES` - 1 processes beside the service.

Decoding and projecting is CPU-bound in Python, so one process applies the projections at the
pace of one core. A worker is a process of its own running the same `ProjectionSupervisor` as the
service, without HTTP: its consumers join the same consumer groups, so Kafka gives each process a
share of the partitions, and it follows the generations table as every instance does (it starts a
rebuild's consumers, promotes a caught-up rebuild under the advisory lock, stops retired ones).
The platform's `ConsumerStore` keeps a partition that changes hands from being applied twice.

The service starts its workers after migrating and stops them when it stops. A worker reads its
settings as JSON from its stdin and exits when that closes, so it cannot outlive the service
even when the service is killed.

    python -m etalase_reporting.workers < settings.json   (what the service runs)
"""

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time

from etalase_platform.logs import configure_logging
from etalase_platform.outages import DependencyUnavailable
from etalase_platform.runtime import ServiceRuntime

from etalase_reporting.projection.registry import PROJECTIONS, TOPICS
from etalase_reporting.rebuild.kafka_log import LogReader
from etalase_reporting.rebuild.supervisor import ProjectionSupervisor
from etalase_reporting.settings import Settings

log = logging.getLogger(__name__)
RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 30.0
STOP_SECONDS = 10.0


async def worker_count(settings: Settings, log_reader: LogReader) -> int:
    """How many workers to start: the setting less this process, and no more processes than
    the projection with the most partitions can give work (when the topics exist)."""
    wanted = settings.projection_processes
    if wanted == 1:
        return 0
    try:
        partitions = await log_reader.offsets(TOPICS)
    except DependencyUnavailable:
        return wanted - 1  # the broker is away: its partitions are not known, the setting is
    most = max(sum(len(partitions.get(t, {})) for t in p.topics) for p in PROJECTIONS)
    if 0 < most < wanted:
        log.warning(
            "reporting: %d projection processes asked for, %d partitions at most: running %d",
            wanted,
            most,
            most,
        )
        wanted = most
    return wanted - 1


class ProjectionWorkers:
    """Starts `count` worker processes and starts each again when it exits."""

    def __init__(self, settings: Settings, count: int) -> None:
        self._settings = settings
        self._count = count
        self._tasks: list[asyncio.Task[None]] = []
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for number in range(self._count):
            self._tasks.append(
                asyncio.create_task(self._keep(number), name=f"reporting:worker-{number}")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _keep(self, number: int) -> None:
        delay = RESTART_SECONDS
        while True:
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "etalase_reporting.workers", stdin=asyncio.subprocess.PIPE
            )
            self.processes.append(process)
            try:
                assert process.stdin is not None
                try:
                    process.stdin.write(self._settings.model_dump_json().encode() + b"\n")
                    await process.stdin.drain()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # it died at once: its exit code says how
                code = await process.wait()
            except asyncio.CancelledError:
                await _end(process)
                raise
            finally:
                self.processes.remove(process)
            # one that cannot start (its broker is away) is retried ever less often
            lived = time.monotonic() - started
            longest = MAX_RESTART_SECONDS
            delay = RESTART_SECONDS if lived > longest else min(delay * 2, longest)
            log.error(
                "reporting: projection worker %d exited (%s); restarting in %.0f s",
                number,
                code,
                delay,
            )
            await asyncio.sleep(delay)


async def _end(process: asyncio.subprocess.Process) -> None:
    """Closing its stdin asks the worker to stop (as the service's death would)."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _work(settings: Settings) -> None:
    from etalase_reporting.bootstrap import MIGRATIONS  # the service's module imports this one

    runtime = ServiceRuntime(settings=settings, migrations_dir=MIGRATIONS, run_relay=False)
    supervisor = ProjectionSupervisor(runtime, poll_seconds=settings.switch_poll_seconds)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)

    def wait_for_end_of_input() -> None:
        # the service holds our stdin open: end of file means it stopped, however it stopped
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stopping.set)

    threading.Thread(target=wait_for_end_of_input, daemon=True).start()
    await runtime.start(migrate=False)
    try:
        await supervisor.start()
        try:
            await stopping.wait()
        finally:
            await supervisor.stop()
    finally:
        await runtime.stop()


def main() -> None:
    from etalase_reporting.main import tune_garbage_collector

    settings = Settings.model_validate_json(sys.stdin.buffer.readline())
    configure_logging(f"{settings.service_name}.worker")
    tune_garbage_collector()
    asyncio.run(_work(settings))


if __name__ == "__main__":
    main()
