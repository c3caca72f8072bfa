"""Resident memory (VmRSS) of the processes under test, sampled from /proc while the load runs.

psutil is not a dependency; /proc/<pid>/status and /proc/<pid>/stat give the same figures on Linux.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB, 0 when it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time one process has used so far (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime and stime, fields 14 and 15 of stat(5)


def children(parent: int) -> list[int]:
    """Direct children of a process (gunicorn's workers, Celery's pool processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent:
            found.append(int(entry.name))
    return found


class RssSampler:
    """Samples the RSS of named groups of processes in a background thread and keeps each group's peak (the
    largest single process of the group, in KiB)."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.groups: dict[str, Callable[[], list[int]]] = {}
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pids: Callable[[], list[int]]) -> None:
        self.groups[name] = pids

    def largest(self, name: str) -> int:
        """The group's largest process now, in KiB."""
        return max((rss_kib(pid) for pid in self.groups[name]()), default=0)

    def sample(self) -> None:
        for name in list(self.groups):
            self.peaks[name] = max(self.peaks.get(name, 0), self.largest(name))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all cores), from the first line of /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _ours(root: int, database: str) -> dict[int, float]:
    """CPU time of this process, of its descendants and of the PostgreSQL backends serving ``database``, by pid."""
    parents: dict[int, int] = {}
    backends = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if f" {database} " in (entry / "cmdline").read_text().replace("\0", " "):
                backends.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return {pid: cpu_seconds(pid) for pid in tree | set(backends)}


class CpuShare:
    """How much of the machine's CPU other jobs used between two readings: the benchmark's figures are only as
    good as the machine was quiet. Our processes are compared pid by pid; what one of ours used between its last
    reading and its exit counts as other jobs' (a small overestimate: ours mostly live through a stage)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.reading = self._read()

    def _read(self) -> tuple[float, float, dict[int, float]]:
        return time.monotonic(), _busy_seconds(), _ours(os.getpid(), self.database)

    def others(self) -> float:
        """Share of all cores used by other jobs since the last call (0-1)."""
        (began, busy0, ours0), (now, busy1, ours1) = self.reading, self._read()
        self.reading = (now, busy1, ours1)
        ours = sum(cpu - ours0.get(pid, 0.0) for pid, cpu in ours1.items())
        capacity = (now - began) * (os.cpu_count() or 1)
        return min(1.0, max(0.0, (busy1 - busy0) - ours) / capacity) if capacity else 0.0
