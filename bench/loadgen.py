"""HTTP load for the benchmarks: steady open-loop rates (saturation is measured with wrk, `bench/wrk.py`).

Why not Locust: its users are closed loops, so a slow response delays that user's next request and the queueing
delay never shows in the percentiles ("coordinated omission"). Here each open-loop request has a scheduled
start time and its latency is measured from that time, whatever happened before.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Request:
    method: str
    path: str
    cookies: str
    csrf: str
    data: dict[str, str] | None = None
    headers: dict[str, str] | None = None  # more request headers (HX-Request for an htmx fragment)


@dataclass
class LoadResult:
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter = field(default_factory=Counter)  # HTTP status -> count; 0 for a failed connection
    began: float = 0.0  # time.perf_counter() when the first request was due

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _send(session: aiohttp.ClientSession, base: str, request: Request) -> int:
    headers = {"Cookie": request.cookies, "X-CSRFToken": request.csrf, "Host": "127.0.0.1", **(request.headers or {})}
    async with session.request(
        request.method, base + request.path, data=request.data, headers=headers, allow_redirects=False
    ) as response:
        await response.read()
        return response.status


async def _measured(session, base: str, make, counts: Counter, latencies: list[float], since: float) -> None:  # noqa: PLR0917
    """Send one request and record its status (2xx and 3xx are answered; anything else, or no answer, is an
    error) and its latency counted from ``since``."""
    counts["sent"] += 1
    try:
        status = await _send(session, base, make())
    except (TimeoutError, aiohttp.ClientError):
        status = 0
    counts["ok" if 200 <= status < 400 else "errors"] += 1
    counts[status] += 1
    latencies.append((time.perf_counter() - since) * 1000)


def _result(counts: Counter, seconds: float, latencies: list[float], began: float) -> LoadResult:
    statuses = Counter({k: v for k, v in counts.items() if isinstance(k, int)})
    return LoadResult(counts["sent"], counts["ok"], counts["errors"], seconds, latencies, statuses, began)


async def _open_loop(base: str, make: Callable[[], Request], rate: float, seconds: float) -> LoadResult:
    connector = aiohttp.TCPConnector(limit=512)
    latencies: list[float] = []
    counts: Counter = Counter()
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
    return _result(counts, elapsed, latencies, began)


def open_loop(base: str, make: Callable[[], Request], *, rate: float, seconds: float = 6) -> LoadResult:
    return asyncio.run(_open_loop(base, make, rate, seconds))


def chooser(requests: list[Request]) -> Callable[[], Request]:
    rng = random.Random(42)
    return lambda: rng.choice(requests)
