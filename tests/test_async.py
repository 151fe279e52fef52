"""Async exports (the Component Model's native async): called directly, concurrently, under
limits, and the host-boundary refusal of streams and futures.  Real componentize-py guests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest

import wasmlab
from wasmlab.runtime.async_calls import PendingCall

CALC_WIT = """\
package demo:calc@0.1.0;

interface calc {
  double: async func(x: u32) -> u32;
  spin: async func(n: u64) -> u64;
  fail: async func(reason: string) -> u32;
  numbers: async func(n: u32) -> stream<u8>;
  later: func(x: u32) -> future<u32>;
  count: func(n: u64) -> u64;
}

interface feed {
  chunks: func(n: u32) -> stream<u8>;
}

world calculator { export calc; }
world fed { import feed; export total: async func(n: u32) -> u32; }
"""

CALC_PY = """\
import componentize_py_async_support
import wit_world
from wit_world import exports


async def pump(tx, n):
    with tx:
        await tx.write_all(bytes(range(n)))


class Calc(exports.Calc):
    async def double(self, x):
        return 2 * x

    async def spin(self, n):
        total = 0
        for i in range(n):
            total += i
        return total

    async def fail(self, reason):
        raise ValueError(reason)

    async def numbers(self, n):
        tx, rx = wit_world.byte_stream()
        componentize_py_async_support.spawn(pump(tx, n))
        return rx

    def later(self, x):
        return wit_world.u32_future(lambda: x)[1]

    def count(self, n):
        total = 0
        for i in range(n):
            total += i
        return total
"""

FED_PY = """\
from wit_world.imports import feed


class WitWorld:
    async def total(self, n):
        rx = feed.chunks(n)
        data = bytearray()
        with rx:
            while not rx.writer_dropped:
                data += await rx.read(100)
        return sum(data)
"""


@pytest.fixture(scope="module")
def calc_wit():
    return wasmlab.define_wit(CALC_WIT, origin="calc.wit")


@pytest.fixture(scope="module")
def calc(calc_wit):
    return wasmlab.build(world="demo:calc/calculator", python=CALC_PY, name="calc", progress=False)


@pytest.fixture(scope="module")
def fed(calc_wit):
    return wasmlab.build(world="demo:calc/fed", python=FED_PY, name="fed", progress=False)


def test_async_export_blocks_outside_an_event_loop(calc):
    assert calc.exports["demo:calc/calc@0.1.0"].interface.functions["double"].is_async
    assert calc.calc.double(21) == 42
    assert calc.calc.double.call_sync(5) == 10
    assert calc.calc.spin(1000) == sum(range(1000))


def test_async_export_is_awaited_inside_an_event_loop(calc):
    async def main():
        pending = calc.calc.double(4)
        assert isinstance(pending, PendingCall)
        assert "await it" in repr(pending)
        blocking = calc.calc.double.call_sync(3)  # blocks, even with a loop running
        return await pending, blocking

    assert asyncio.run(main()) == (8, 6)


def test_concurrent_calls_all_complete_with_their_own_results(calc):
    async def main():
        return await asyncio.gather(*(calc.calc.double(i) for i in range(6)), calc.calc.spin(5000))

    assert asyncio.run(main()) == [0, 2, 4, 6, 8, 10, sum(range(5000))]


def test_the_event_loop_runs_while_the_guest_computes(calc):
    """A worker thread polls the call: other coroutines keep running during one long call."""
    ticks = 0

    async def ticker(done):
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def main():
        done = asyncio.Event()
        running = asyncio.create_task(ticker(done))
        total = await calc.calc.spin(2_000_000)
        done.set()
        await running
        return total

    assert asyncio.run(main()) == sum(range(2_000_000))
    assert ticks > 10


def test_a_time_limit_stops_only_its_own_call(calc):
    calc.limits = wasmlab.Limits(timeout=0.5)
    try:
        async def main():
            return await asyncio.gather(calc.calc.spin(10**12), calc.calc.spin(1000), return_exceptions=True)

        endless, short = asyncio.run(main())
        assert isinstance(endless, wasmlab.Trap) and endless.trap_kind == "timeout"
        assert short == sum(range(1000))
    finally:
        calc.limits = wasmlab.Limits()


def test_guest_exception_traps_and_the_next_call_is_fresh(calc):
    with pytest.raises(wasmlab.Trap, match="ValueError: broken"):
        calc.calc.fail("broken")
    assert calc.calc.double(2) == 4


def test_time_limit_stops_an_async_call_then_a_fresh_store(calc):
    calc.limits = wasmlab.Limits(timeout=0.5)
    try:
        with pytest.raises(wasmlab.Trap, match="time limit of 0.5 s") as caught:
            calc.calc.spin(10**12)
        assert caught.value.trap_kind == "timeout"

        async def awaited():
            return await calc.calc.spin(10**12)

        with pytest.raises(wasmlab.Trap, match="time limit"):
            asyncio.run(awaited())
        assert calc.calc.double(7) == 14
    finally:
        calc.limits = wasmlab.Limits()


def test_streams_and_futures_are_refused_before_the_call(calc):
    with pytest.raises(wasmlab.WasmlabError, match="result of .*numbers is a stream<u8>") as caught:
        calc.calc.numbers(3)
    assert "driver component" in caught.value.hint
    with pytest.raises(wasmlab.WasmlabError, match="future<u32>"):
        calc.calc.later(1)
    assert calc.calc.double(1) == 2


def test_python_import_carrying_a_stream_is_refused_at_link_time(fed):
    with pytest.raises(wasmlab.WasmlabError, match="result of host function .*chunks is a stream<u8>"):
        fed.instantiate(imports={"feed": {"chunks": lambda n: b"x" * n}})


def test_refused_boundary_calls_never_abort_the_process(calc, fed, isolated_cache):
    """wasmtime aborts the whole process when a stream reaches the host: the refusals must
    come first, in a process of its own so an abort would show as a signal exit."""
    script = textwrap.dedent(f"""
        import wasmlab
        wasmlab.define_wit({CALC_WIT!r})
        calc = wasmlab.load({str(calc.wasm_path)!r})
        fed = wasmlab.load({str(fed.wasm_path)!r})
        refused = 0
        for attempt in (lambda: calc.calc.numbers(3), lambda: calc.calc.later(2),
                        lambda: fed.instantiate(imports={{"feed": {{"chunks": lambda n: b"x"}}}})):
            try:
                attempt()
            except wasmlab.WasmlabError as exc:
                refused += 1
        print("survived", refused, calc.calc.double(5))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WASMLAB_CACHE_DIR": str(isolated_cache)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "survived 3 10" in proc.stdout


def test_cli_calls_an_async_export_like_a_sync_one(calc, tmp_path):
    from helpers import run_cli

    path = tmp_path / "calc.wasm"
    path.write_bytes(calc.wasm)
    done = run_cli("call", str(path), "double(21)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"
    refused = run_cli("call", str(path), "numbers(3)")
    assert refused.returncode == 1
    assert "stream<u8>" in refused.stderr and "Traceback" not in refused.stderr


def test_kernel_interrupt_stops_an_async_call(calc, isolated_cache):
    script = textwrap.dedent(f"""
        import os, signal, threading, wasmlab
        calc = wasmlab.load({str(calc.wasm_path)!r})
        calc.calc.double(1)  # compiled and instantiated before the stop button is pressed
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            calc.calc.spin(10**12)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        print("next", calc.calc.double(4))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WASMLAB_CACHE_DIR": str(isolated_cache)})
    assert proc.returncode == 0, f"exit {proc.returncode}; stdout {proc.stdout!r}; stderr {proc.stderr[-2000:]}"
    assert "interrupted" in proc.stdout and "next 8" in proc.stdout


def test_kernel_interrupt_stops_a_sync_call_in_an_instance_that_ran_async_calls(calc, isolated_cache):
    # the instance's store has a Python epoch callback (installed for the async call): a Ctrl-C
    # raised by Python's handler inside it would take the process down
    script = textwrap.dedent(f"""
        import os, signal, threading, wasmlab
        calc = wasmlab.load({str(calc.wasm_path)!r})
        calc.calc.double(1)
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            calc.calc.count(10**12)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        print("next", calc.calc.count(4), calc.calc.double(4))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WASMLAB_CACHE_DIR": str(isolated_cache)})
    assert proc.returncode == 0, f"exit {proc.returncode}; stdout {proc.stdout!r}; stderr {proc.stderr[-2000:]}"
    assert proc.stdout.split() == ["interrupted", "next", "6", "8"]


# ---- the seed deck's `load | unzip | jq` pipeline: three components, stream<u8> between them ----

PIPE_WIT = """\
package demo:pipeline@0.1.0;

interface load {
  load: async func(path: string) -> stream<u8>;
}
interface unzip {
  unzip: async func(input: stream<u8>) -> stream<u8>;
}
interface jq {
  jq: async func(input: stream<u8>, query: string) -> string;
}
interface app {
  first: async func(path: string, query: string) -> string;
  interleave: async func(a: string, b: string) -> list<string>;
}
world loader { export load; }
world unzipper { export unzip; }
world query { import load; import unzip; export jq; export app; }
"""

LOADER_PY = """\
import gzip, json
import componentize_py_async_support
import wit_world
from wit_world import exports

def records(n):
    return [{"id": i, "name": f"item-{i}", "tags": ["a", "b"][: i % 3]} for i in range(n)]

async def pump(data, tx):
    with tx:
        for at in range(0, len(data), 4096):
            await tx.write_all(data[at:at + 4096])

class Load(exports.Load):
    async def load(self, path):
        n = int(path.split(".")[0].rsplit("-", 1)[-1]) if "-" in path else 1000
        data = json.dumps(records(n)).encode()
        if path.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        tx, rx = wit_world.byte_stream()
        componentize_py_async_support.spawn(pump(data, tx))
        return rx
"""

UNZIP_PY = """\
import zlib
import componentize_py_async_support
import wit_world
from wit_world import exports

async def inflate(rx, tx):
    d = zlib.decompressobj(wbits=47)
    with rx, tx:
        while not rx.writer_dropped:
            chunk = await rx.read(16384)
            if chunk:
                await tx.write_all(d.decompress(chunk))
        await tx.write_all(d.flush())

class Unzip(exports.Unzip):
    async def unzip(self, input):
        tx, rx = wit_world.byte_stream()
        componentize_py_async_support.spawn(inflate(input, tx))
        return rx
"""

QUERY_PY = """\
import asyncio, json
from wit_world import exports
from wit_world.imports import load, unzip

async def read_all(rx):
    data = bytearray()
    with rx:
        while not rx.writer_dropped:
            data += await rx.read(65536)
    return bytes(data)

def select(value, query):
    if query.strip() == "length":
        return len(value)
    for part in query.replace("[", ".[").split("."):
        if not part:
            continue
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value

async def jq(rx, query):
    return json.dumps(select(json.loads(await read_all(rx)), query))

class Jq(exports.Jq):
    async def jq(self, input, query):
        return await jq(input, query)

class App(exports.App):
    async def first(self, path, query):
        return await jq(await unzip.unzip(await load.load(path)), query)

    async def interleave(self, a, b):
        seen = []
        async def drain(label, path):
            rx = await load.load(path)
            with rx:
                while not rx.writer_dropped:
                    if await rx.read(4096):
                        seen.append(label)
        await asyncio.gather(drain("a", a), drain("b", b))
        return seen
"""

PIPE_WAC = """\
package demo:app;

let loader = new demo:loader { ... };
let unzipper = new demo:unzipper { ... };
let query = new demo:query { load: loader.load, unzip: unzipper.unzip, ... };
export query.app;
export query.jq;
"""


@pytest.fixture(scope="module")
def pipeline():
    """producer -> transform -> consumer, composed with wasmlab's own WAC; the consumer's
    plain-valued ``app`` export drives it, so no stream ever reaches the host."""
    wasmlab.define_wit(PIPE_WIT, origin="pipeline.wit")
    parts = {name: wasmlab.build(world=world, python=src, name=name, progress=False)
             for name, world, src in [("loader", "loader", LOADER_PY), ("unzipper", "unzipper", UNZIP_PY),
                                      ("query", "query", QUERY_PY)]}
    return wasmlab.compose(PIPE_WAC, name="app", namespace=parts)


def expected_records(n):
    return [{"id": i, "name": f"item-{i}", "tags": ["a", "b"][: i % 3]} for i in range(n)]


def test_stream_pipeline_runs_end_to_end(pipeline):
    import json

    records = expected_records(2000)
    assert json.loads(pipeline.app.first("input-2000.json.gz", ".[1].name")) == records[1]["name"]
    assert json.loads(pipeline.app.first("input-2000.json.gz", "length")) == len(records)
    assert json.loads(pipeline.app.first("input-7.json.gz", ".[6]")) == records[6]

    async def together():
        return await asyncio.gather(pipeline.app.first("input-50.json.gz", ".[49].id"),
                                    pipeline.app.first("input-9.json.gz", ".[8].tags"))

    assert [json.loads(v) for v in asyncio.run(together())] == [49, records[8]["tags"]]


def test_streams_from_two_producers_are_consumed_concurrently(pipeline):
    seen = pipeline.app.interleave("a-3000.json", "b-3000.json")
    chunks = len(json_bytes(3000)) // 4096  # the loader writes 4 KiB at a time
    assert seen.count("a") >= chunks and seen.count("b") >= chunks
    first_b = seen.index("b")
    assert first_b < seen.count("a"), "the second stream started before the first one was drained"


def json_bytes(n):
    import json

    return json.dumps(expected_records(n)).encode()


def test_the_pipelines_stream_export_stays_inside(pipeline):
    assert "jq" in pipeline.exports["demo:pipeline/jq@0.1.0"].interface.functions
    with pytest.raises(wasmlab.WasmlabError, match="parameter input of .*jq is a stream<u8>"):
        pipeline.jq.jq(b"[]", ".")


def test_cli_calls_the_composed_pipeline(pipeline, tmp_path):
    from helpers import run_cli

    path = tmp_path / "app.wasm"
    path.write_bytes(pipeline.wasm)
    done = run_cli("call", str(path), 'first("input-30.json.gz", ".[29].name")')
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '"\\"item-29\\""'


def test_the_composition_picture_marks_stream_typed_edges(pipeline):
    from wasmlab.runtime.async_calls import streams_of_import

    composition = pipeline.composition
    carried = {wire: streams_of_import(composition, target, wire) for _, target, wire in composition.wires}
    assert carried == {"demo:pipeline/load@0.1.0": ["stream<u8>"], "demo:pipeline/unzip@0.1.0": ["stream<u8>"]}
    dot = composition.picture().source
    assert dot.count("stream<u8>") == 2
