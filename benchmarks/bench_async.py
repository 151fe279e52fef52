"""Async-call figures, measured side by side in one run (the machine is shared and noisy).

    python benchmarks/bench_async.py [--pipeline]

Prints the cost of one call to a sync export, to the same body as an ``async func`` (blocking
and awaited), and eight awaited calls gathered; with ``--pipeline``, the throughput of the
``load | unzip | jq`` stream pipeline of tests/test_async.py (three components composed with
wasmlab's WAC; its first compile takes about a minute, cached afterwards).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import wasmlab

WIT = """\
package bench:calls;

interface calls {
  plain: func(x: u32) -> u32;
  later: async func(x: u32) -> u32;
}

world caller { export calls; }
"""

PY = """\
from wit_world import exports


class Calls(exports.Calls):
    def plain(self, x):
        return x + 1

    async def later(self, x):
        return x + 1
"""


def per_call(fn, n: int = 300, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean seconds per call."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def per_awaited_call(fn, n: int = 300, rounds: int = 5) -> float:
    async def batch():
        for i in range(n):
            await fn(i)

    return _median_per_call(batch, n, rounds)


def per_gathered_call(fn, n: int = 8, rounds: int = 20) -> float:
    async def batch():
        return await asyncio.gather(*(fn(i) for i in range(n)))

    return _median_per_call(batch, n, rounds)


def _median_per_call(batch, n: int, rounds: int) -> float:
    """Seconds per call: the median over ``rounds`` runs of ``batch`` (``n`` calls each)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        asyncio.run(batch())
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def calls() -> dict:
    wasmlab.define_wit(WIT)
    component = wasmlab.build(world="caller", python=PY, name="calls", progress=False)
    api = component.calls
    api.plain(0), api.later(0)  # instantiate and compile outside the timings
    sync = per_call(api.plain)
    blocking = per_call(api.later)
    awaited = per_awaited_call(api.later)
    gathered = per_gathered_call(api.later)
    return {"sync_us": sync * 1e6, "async_blocking_us": blocking * 1e6, "async_awaited_us": awaited * 1e6,
            "async_gathered_us": gathered * 1e6}


def pipeline() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_async import LOADER_PY, PIPE_WAC, PIPE_WIT, QUERY_PY, UNZIP_PY

    wasmlab.define_wit(PIPE_WIT)
    parts = {name: wasmlab.build(world=world, python=src, name=name, progress=False)
             for name, world, src in [("loader", "loader", LOADER_PY), ("unzipper", "unzipper", UNZIP_PY),
                                      ("query", "query", QUERY_PY)]}
    app = wasmlab.compose(PIPE_WAC, name="app", namespace=parts)
    app.app.first("input-1.json.gz", "length")
    out = {}
    for n in (1_000, 20_000):
        raw = len(json.dumps([{"id": i, "name": f"item-{i}", "tags": ["a", "b"][: i % 3]} for i in range(n)]))
        start = time.perf_counter()
        assert json.loads(app.app.first(f"input-{n}.json.gz", "length")) == n
        seconds = time.perf_counter() - start
        out[f"records_{n}"] = {"json_bytes": raw, "seconds": seconds, "mb_per_s": raw / seconds / 1e6}
    return out


def main() -> None:
    figures = calls()
    print(f"sync export call            {figures['sync_us']:8.1f} us")
    print(f"async export, blocking      {figures['async_blocking_us']:8.1f} us  "
          f"({figures['async_blocking_us'] / figures['sync_us']:.2f}x sync)")
    print(f"async export, awaited       {figures['async_awaited_us']:8.1f} us  "
          f"({figures['async_awaited_us'] / figures['sync_us']:.2f}x sync)")
    print(f"async export, 8 gathered    {figures['async_gathered_us']:8.1f} us per call  "
          f"({figures['async_gathered_us'] / figures['sync_us']:.2f}x sync)")
    if "--pipeline" in sys.argv:
        for name, row in pipeline().items():
            print(f"pipeline {name:14} {row['json_bytes'] / 1e6:6.2f} MB of JSON in {row['seconds'] * 1e3:7.1f} ms "
                  f"= {row['mb_per_s']:.1f} MB/s through load | unzip | jq")


if __name__ == "__main__":
    main()
