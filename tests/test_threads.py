"""Calls from several Python threads: a store runs one call at a time (a lock per instance), so
threads take turns in the component's one instance.  The process never aborts (before the lock:
Rust assertion panics in wasmtime's trap handling, exit 134), no call gets a wrong error, and
results are right.  Each stress run happens in a child process, so an abort fails the test
instead of killing pytest."""

from __future__ import annotations

import threading

import wasmlab
from wasmlab.errors import ArgumentError, Trap

import reliability

MIXED = """\
import threading, traceback
import reliability
from wasmlab.errors import ArgumentError, Trap

c = reliability.build()
THREADS, CALLS = {threads}, {calls}
problems, tallies = [], [dict(ok=0, trap=0, refused=0) for _ in range(THREADS)]
start = threading.Barrier(THREADS)


def work(t):
    tally = tallies[t]
    start.wait()
    for i in range(CALLS):
        try:
            step = (i + t) % 6
            if step == 0:
                assert c.calc.add(i, t) == i + t
            elif step == 1:
                assert c.echo(f"thread {{t}} call {{i}}") == f"thread {{t}} call {{i}}"
            elif step == 2:
                try:
                    c.calc.crash()
                    problems.append("crash() returned")
                except Trap as exc:
                    assert exc.trap_kind == "unreachable", exc
                    tally["trap"] += 1
                continue
            elif step == 3:
                assert c.export("calc#add")(t, 1) == t + 1
            elif step == 4:
                try:
                    c.calc.add(-1, 0)
                    problems.append("add(-1) was accepted")
                except ArgumentError:
                    tally["refused"] += 1
                continue
            else:
                assert c.calc.count(list(range(i % 50))) == i % 50
                assert c["calc"]["norm"]({{"x": t, "y": i}}) == t + i
            tally["ok"] += 1
        except Exception:
            problems.append(traceback.format_exc(limit=3))


threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("problems", len(problems))
for p in problems[:5]:
    print(p)
print("tally", {{k: sum(t[k] for t in tallies) for k in ("ok", "trap", "refused")}})
"""


def test_eight_threads_mixed_calls_with_traps_on_one_component(isolated_cache):
    reliability.build()  # the child finds it in the cache
    threads, calls = 8, 1000
    proc = reliability.run_child(MIXED.format(threads=threads, calls=calls))
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "problems 0" in proc.stdout, proc.stdout[-4000:]
    tally = eval(proc.stdout.split("tally", 1)[1])  # noqa: S307 - our own child's dict
    steps = [(i + t) % 6 for t in range(threads) for i in range(calls)]
    assert tally == {"ok": sum(s not in (2, 4) for s in steps), "trap": steps.count(2), "refused": steps.count(4)}


def test_threads_take_turns_in_one_instance_and_share_its_state():
    c = reliability.build()
    c.reset()
    seen: list[int] = []
    lock = threading.Lock()

    def work():
        got = [c.counter() for _ in range(200)]
        with lock:
            seen.extend(got)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # one instance, one call at a time: every call saw the counter the previous one left
    assert sorted(seen) == list(range(1, 1601))


def test_instances_of_their_own_run_in_parallel_threads():
    c = reliability.build()
    results: dict[int, list[int]] = {}

    def work(t):
        own = c.instantiate()
        results[t] = [own.call(("counter",), c.exports["counter"].function, (), {}) for _ in range(100)]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(got == list(range(1, 101)) for got in results.values()), results
    assert len(results) == 4


def test_a_trap_in_one_thread_gives_the_others_a_fresh_instance_not_an_error():
    c = reliability.build()
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def trapper():
        start.wait()
        for _ in range(100):
            try:
                c.calc.crash()
                failures.append(AssertionError("crash() returned"))
            except Trap:
                pass

    def caller():
        start.wait()
        try:
            for i in range(300):
                assert c.calc.add(i, 1) == i + 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=trapper)] + [threading.Thread(target=caller) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []


ASYNC_WIT = """\
package test:athreads;

interface calc {
  double: async func(x: u32) -> u32;
  fail: async func(reason: string) -> u32;
}

world athreads { export calc; }
"""

ASYNC_PY = """\
from wit_world import exports


class Calc(exports.Calc):
    async def double(self, x):
        return 2 * x

    async def fail(self, reason):
        raise ValueError(reason)
"""

ASYNC_MIXED = """\
import asyncio, threading, traceback
import wasmlab
from wasmlab.errors import Trap

wasmlab.define_wit({wit!r}, origin="athreads.wit")
c = wasmlab.build(world="test:athreads/athreads", python={py!r}, name="athreads", progress=False)
problems = []


def work(t):
    try:
        for i in range(40):
            if i % 4 == 0:
                assert c.calc.double(i) == 2 * i          # no event loop here: blocks
            elif i % 4 == 1:
                assert c.calc.double.call_sync(t) == 2 * t
            elif i % 4 == 2:
                async def both():
                    return await asyncio.gather(c.calc.double(i), c.calc.double(t))
                assert asyncio.run(both()) == [2 * i, 2 * t]
            else:
                try:
                    c.calc.fail.call_sync("no")
                    problems.append("fail() returned")
                except Trap:
                    pass
    except Exception:
        problems.append(traceback.format_exc(limit=4))


threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("problems", len(problems))
for p in problems[:3]:
    print(p)
"""


def test_async_exports_and_call_sync_from_several_threads(isolated_cache):
    wasmlab.define_wit(ASYNC_WIT, origin="athreads.wit")
    wasmlab.build(world="test:athreads/athreads", python=ASYNC_PY, name="athreads", progress=False)
    proc = reliability.run_child(ASYNC_MIXED.format(wit=ASYNC_WIT, py=ASYNC_PY))
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "problems 0" in proc.stdout, proc.stdout[-4000:]


def test_a_sync_call_waits_for_another_threads_call_in_the_same_instance():
    c = reliability.build()
    c.limits = wasmlab.Limits(fuel=10**12)
    try:
        started = threading.Event()
        out: dict = {}

        def long_call():
            started.set()
            out["spin"] = c.calc.spin(3_000_000)

        th = threading.Thread(target=long_call)
        th.start()
        started.wait()
        assert c.calc.add(2, 3) == 5  # waits its turn, or goes first: never "cannot enter"
        th.join()
        assert out["spin"] == 3_000_000
    finally:
        c.limits = wasmlab.Limits()


def test_refused_arguments_from_threads_are_argument_errors():
    c = reliability.build()
    errors: list[BaseException] = []

    def work():
        for _ in range(50):
            try:
                c.calc.norm({"x": 1})
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(errors) == 200 and all(isinstance(e, ArgumentError) for e in errors)
