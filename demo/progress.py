"""Concise progress lines: elapsed time, counts, rates. Plain text, so logs and CI keep them."""

import sys
import time
from typing import TextIO


class Log:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, message: str) -> None:
        print(f"[{self.elapsed:6.1f}s] {message}", file=self.out, flush=True)

    def plain(self, message: str = "") -> None:
        print(message, file=self.out, flush=True)

    def progress(self, label: str, total: int) -> "Progress":
        return Progress(self, label, total)


class Progress:
    """Counts work done; says so every few seconds and once at the end."""

    EVERY = 3.0

    def __init__(self, log: Log, label: str, total: int) -> None:
        self.log, self.label, self.total = log, label, total
        self.done = 0
        self.started = self.last = time.monotonic()

    def tick(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.EVERY and self.done < self.total:
            self.last = now
            self.log.say(f"  {self.label}: {self.done}/{self.total} ({self._rate(now)})")

    def finish(self, summary: str = "") -> None:
        now = time.monotonic()
        took = now - self.started
        tail = f" — {summary}" if summary else ""
        self.log.say(f"{self.label}: {self.done} in {took:.1f}s ({self._rate(now)}){tail}")

    def _rate(self, now: float) -> str:
        seconds = max(now - self.started, 1e-6)
        return f"{self.done / seconds:.0f}/s"
