"""A soak test in short: 10,000 calls through one component taking turns between successes,
traps and refused arguments, then 200 fresh instances; resident memory after a warm-up grows
by less than 2 MB (the full run, 100,000 calls and 1,000 instances under 20 MB, is
``benchmarks/bench_soak.py``)."""

from __future__ import annotations

import reliability

CALLS, INSTANCES = 10_000, 200
BOUND = 20 * 2**20 * CALLS // 100_000  # the full run's 20 MB, scaled


def test_calls_traps_refusals_and_fresh_instances_do_not_grow_memory():
    figures = reliability.soak_memory(reliability.build(), CALLS, INSTANCES)
    assert (figures["ok"], figures["trap"], figures["refused"]) == (CALLS * 7 // 10, CALLS // 10, CALLS * 2 // 10)
    assert figures["growth"] < BOUND, figures
