"""The soak run: 100,000 calls through one component taking turns between successes, traps and
refused arguments (7 : 1 : 2), then 1,000 fresh instances, after a warm-up of a tenth of that.
Prints calls/s, instances/s and the resident memory before and after; the target is a growth
under 20 MB.  ``tests/test_soak.py`` runs a tenth of it.  Run: ``python benchmarks/bench_soak.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(calls: int = 100_000, instances: int = 1_000) -> int:
    os.environ.setdefault("WASMLAB_CACHE_DIR", tempfile.mkdtemp(prefix="wasmlab-bench-"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import reliability

    figures = reliability.soak_memory(reliability.build(), calls, instances)
    mb = 2**20
    print(f"{calls:,} calls: {figures['ok']:,} ok, {figures['trap']:,} traps, {figures['refused']:,} refused; "
          f"{figures['calls_per_s']:,.0f} calls/s")
    print(f"{instances:,} fresh instances: {figures['instances_per_s']:,.0f} instances/s")
    print(f"resident memory: {figures['rss_before'] / mb:.1f} MB before, {figures['rss_after'] / mb:.1f} MB after, "
          f"growth {figures['growth'] / mb:+.2f} MB (target < 20 MB)")
    return 0 if figures["growth"] < 20 * mb else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # as the wasmlab command leaves: no interpreter teardown around wasmtime's threads
