"""HTTP load for the benchmarks: saturation (closed loop) and steady open-loop rates.

Why not Locust: its users are closed loops, so a slow response delays that user's next request and the queueing
delay never shows in the percentiles ("coordinated omission"). Here each open-loop request has a scheduled
start time and its latency is measured from that time, whatever happened before.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp


@dataclass
class Request:
    method: str
    path: str
    cookies: str
    csrf: str
    data: dict[str, str] | None = None


@dataclass
class LoadResult:
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _send(session: aiohttp.ClientSession, base: str, request: Request) -> bool:
    headers = {"Cookie": request.cookies, "X-CSRFToken": request.csrf, "Host": "127.0.0.1"}
    async with session.request(
        request.method, base + request.path, data=request.data, headers=headers, allow_redirects=False
    ) as response:
        await response.read()
        return response.status < 400


async def _measured(session, base: str, make, counts: dict[str, int], latencies: list[float], since: float) -> None:  # noqa: PLR0917
    """Send one request and record its outcome and its latency counted from ``since``."""
    counts["sent"] += 1
    try:
        ok = await _send(session, base, make())
    except aiohttp.ClientError:
        ok = False
    counts["ok" if ok else "errors"] += 1
    latencies.append((time.perf_counter() - since) * 1000)


async def _saturate(base: str, make: Callable[[], Request], concurrency: int, seconds: float) -> LoadResult:
    connector = aiohttp.TCPConnector(limit=concurrency)
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "errors": 0}
    stop = time.perf_counter() + seconds

    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < stop:
                await _measured(session, base, make, counts, latencies, time.perf_counter())

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return LoadResult(counts["sent"], counts["ok"], counts["errors"], elapsed, latencies)


async def _open_loop(base: str, make: Callable[[], Request], rate: float, seconds: float) -> LoadResult:
    connector = aiohttp.TCPConnector(limit=512)
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "errors": 0}
    total = int(rate * seconds)

    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        tasks = []
        for index in range(total):
            scheduled = began + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_measured(session, base, make, counts, latencies, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return LoadResult(counts["sent"], counts["ok"], counts["errors"], elapsed, latencies)


def saturate(base: str, make: Callable[[], Request], *, concurrency: int = 24, seconds: float = 6) -> LoadResult:
    return asyncio.run(_saturate(base, make, concurrency, seconds))


def open_loop(base: str, make: Callable[[], Request], *, rate: float, seconds: float = 6) -> LoadResult:
    return asyncio.run(_open_loop(base, make, rate, seconds))


def chooser(requests: list[Request]) -> Callable[[], Request]:
    rng = random.Random(42)
    return lambda: rng.choice(requests)
