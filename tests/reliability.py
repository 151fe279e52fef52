"""A small WAT component for the reliability tests (threads, limits, refused values, soak) and
the child-process runner of the thread test: a WAT guest builds in milliseconds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

WIT = """\
package test:reliable;

interface calc {
  record point { x: u32, y: u32 }
  flags perms { read, write, exec }
  variant shape { circle(u32), dot }
  enum color { red, green }
  add: func(a: u32, b: u32) -> u32;
  crash: func();
  spin: func(n: u64) -> u64;
  count: func(xs: list<u32>) -> u32;
  norm: func(p: point) -> u32;
  mask: func(p: perms) -> u32;
  kind: func(s: shape) -> u32;
  hue: func(c: color) -> u32;
  grow: func(pages: u32) -> s32;
}

world reliable {
  export calc;
  export echo: func(s: string) -> string;
  export counter: func() -> u32;
}
"""

WAT = """\
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $count (mut i32) (i32.const 0))
  (func (export "test:reliable/calc#add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $explode unreachable)
  (func (export "test:reliable/calc#crash") (call $explode))
  (func (export "test:reliable/calc#spin") (param $n i64) (result i64)
    (local $i i64)
    (block $done
      (loop $again
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $again)))
    (local.get $i))
  (func (export "test:reliable/calc#count") (param i32 i32) (result i32)
    (global.set $heap (i32.const 1024))
    (local.get 1))
  (func (export "test:reliable/calc#norm") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "test:reliable/calc#mask") (param i32) (result i32) (local.get 0))
  (func (export "test:reliable/calc#kind") (param i32 i32) (result i32)
    (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1)))
  (func (export "test:reliable/calc#hue") (param i32) (result i32) (local.get 0))
  (func (export "test:reliable/calc#grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "echo") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.const 16))
  (func (export "cabi_post_echo") (param i32) (global.set $heap (i32.const 1024)))
  (func (export "counter") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.get $count))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local $end i32)
    (local.set $at (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $at) (local.get 3)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.lt_s (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)
                                                               (i32.mul (memory.size) (i32.const 65536)))
                                                       (i32.const 16))
                                            (i32.const 1)))
                      (i32.const 0))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $at)))
"""


def build(name: str = "reliable"):
    """The component (cached after the first build)."""
    import wasmlab

    wasmlab.define_wit(WIT, origin="reliable.wit")
    return wasmlab.build(world="test:reliable/reliable", wat=WAT, name=name, progress=False)


def run_child(script: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python with this package importable: a crash (a Rust panic's
    abort) is then a failing exit code, not a dead test run."""
    prelude = f"import sys\nsys.path.insert(0, {os.path.dirname(__file__)!r})\n"
    # leave as the wasmlab command does (wasmlab.cli): wasmtime's WASI worker threads can abort
    # the process while the interpreter tears down around them, after the script is done
    epilogue = "\nimport os\nsys.stdout.flush()\nsys.stderr.flush()\nos._exit(0)\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script) + epilogue], capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy(), stdin=subprocess.DEVNULL)


def rss_bytes() -> int:
    """This process's resident memory now (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def soak(component, calls: int, instances: int) -> dict:
    """``calls`` calls through ``component`` taking turns between successes, traps and refused
    arguments, then ``instances`` fresh instances (each called once, then dropped).  Returns the
    counts and what they took; raises AssertionError on any wrong result or wrong error."""
    import time

    from wasmlab.errors import ArgumentError, Trap

    counts = {"ok": 0, "trap": 0, "refused": 0}
    calc = component.calc
    started = time.perf_counter()
    for i in range(calls):
        step = i % 10
        if step == 3:
            try:
                calc.crash()
            except Trap:
                counts["trap"] += 1
                continue
            raise AssertionError("crash() returned")
        if step in (6, 9):
            try:
                calc.norm({"x": 1}) if step == 6 else component.echo("\ud800")
            except ArgumentError:
                counts["refused"] += 1
                continue
            raise AssertionError("a wrong argument was accepted")
        if step in (0, 4, 7):
            assert calc.add(i, 1) == i + 1
        elif step in (1, 5):
            assert component.echo(f"call {i}") == f"call {i}"
        else:
            assert calc.count(range(i % 64)) == i % 64
        counts["ok"] += 1
    calls_seconds = time.perf_counter() - started
    function = component.exports["counter"].function
    started = time.perf_counter()
    for _ in range(instances):
        instance = component.instantiate()
        assert instance.call(("counter",), function, (), {}) == 1
        del instance
    return {**counts, "calls_per_s": calls / calls_seconds,
            "instances_per_s": instances / (time.perf_counter() - started)}


def soak_memory(component, calls: int, instances: int) -> dict:
    """:func:`soak` after a warm-up of a tenth of it: resident memory before and after."""
    import gc

    soak(component, max(calls // 10, 100), max(instances // 10, 10))
    gc.collect()
    before = rss_bytes()
    figures = soak(component, calls, instances)
    gc.collect()
    after = rss_bytes()
    return {**figures, "rss_before": before, "rss_after": after, "growth": after - before}
