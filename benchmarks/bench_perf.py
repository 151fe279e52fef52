"""Wasm against native, measured side by side in one run (the machine is shared and noisy).

    python benchmarks/bench_perf.py [--rounds N]

For each program (LINPACK-style LU solve, matrix multiply), scalar and SIMD builds: native speed,
Wasm speed in a plain engine and in wasmlab's interruptible one, and their ratios to native —
next to the seed deck's figures (wasmtime 53 % of native on LINPACK; 2.32x average slowdown in
Frank Denis's 2023 benchmark).  Then the median start-up cost of a process against an instance.
Each figure is the best of N rounds, the three runs taking turns.
"""

from __future__ import annotations

import argparse

from wasmlab.course.deck import LINPACK
from wasmlab.runtime import perf

WORK = {"linpack": ("500", "20"), "matmul": ("300", "10")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    print(perf.toolchain().describe())
    deck = LINPACK["linpack wasmtime mflops"] / LINPACK["linpack native mflops"]
    print(f"deck: LINPACK wasmtime/native = {deck:.0%}; Denis 2023 average = {1 / LINPACK['denis 2023 average slowdown']:.0%}")
    print(f"{'program':16} {'native':>10} {'wasm':>10} {'ratio':>6} {'wasm+epoch':>11} {'ratio':>6}")
    for simd in (False, True):
        for name, args in WORK.items():
            row = perf.compare(name, *args, simd=simd, rounds=rounds)
            best = row.row()
            label = f"{name}{' SIMD' if simd else ''}"
            print(f"{label:16} {best['native']:10,.1f} {best['wasm (plain)']:10,.1f} "
                  f"{best['wasm (plain)'] / best['native']:6.0%} {best['wasm (interruptible)']:11,.1f} "
                  f"{best['wasm (interruptible)'] / best['native']:6.0%}   ({row.metric})")
    for name, seconds in perf.startup_costs(repeats=20).items():
        print(f"start-up {name:16} {seconds * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
