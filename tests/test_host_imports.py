"""Imports implemented in Python: an interface of functions, a root function and a resource class.

The guest (componentize-py) logs through the host, makes journals (a resource the host
implements as a Python class) with the constructor and a static function, borrows one to a
host function and drops them; a nested option makes the round trip through the host.
"""

from __future__ import annotations

import pytest

import wasmlab
from wasmlab.errors import ArgumentError, LinkError, Trap
from wasmlab.runtime.host_imports import HostError
from wasmlab.values import Some

HOST_WIT = """\
package test:host@0.1.0;

interface logger {
  enum level { debug, info, warn }
  log: func(level: level, msg: string);
  resource journal {
    constructor(title: string);
    write: func(line: string) -> u32;
    lines: func() -> list<string>;
    open: static func(title: string) -> journal;
  }
  summarize: func(j: borrow<journal>) -> string;
  maybe-twice: func(x: option<option<u32>>) -> option<option<u32>>;
}

world app {
  import logger;
  import clock: func() -> u64;
  export go: func(n: u32) -> string;
  export roundtrip: func(x: option<option<u32>>) -> option<option<u32>>;
  export tick: func() -> u64;
}
"""

HOST_PY = """\
import wit_world
from wit_world.imports import logger


class WitWorld:
    def go(self, n):
        logger.log(logger.Level.INFO, f"go {n}")
        with logger.Journal("main") as journal:
            for i in range(n):
                journal.write(f"line {i}")
            with logger.Journal.open("side") as side:
                side.write("x")
            summary = logger.summarize(journal)
            count = len(journal.lines())
        return f"{summary}|{count}|{wit_world.clock()}"

    def roundtrip(self, x):
        return logger.maybe_twice(x)

    def tick(self):
        return wit_world.clock()
"""


class Journal:
    """The host's implementation of the imported resource ``journal``."""

    events: list = []

    def __init__(self, title):
        self.title = title
        self.written = []
        Journal.events.append(("new", title))

    def write(self, line):
        self.written.append(line)
        return len(self.written)

    def lines(self):
        return list(self.written)

    @staticmethod
    def open(title):
        return Journal(title + "!")

    def drop(self):
        Journal.events.append(("drop", self.title))


class Logger:
    Journal = Journal

    def __init__(self):
        self.logged = []
        self.seen = []

    def log(self, level, msg):
        self.logged.append((level.value, msg))

    def summarize(self, journal):
        return f"{journal.title}:{len(journal.written)}"

    def maybe_twice(self, x):
        self.seen.append(x)
        return x


@pytest.fixture(scope="module")
def app():
    wasmlab.define_wit(HOST_WIT, origin="host.wit")
    return wasmlab.build(world="test:host/app", python=HOST_PY, name="app", progress=False)


def _with(app, imports):
    return wasmlab.Component(app.name, app.wasm_path, app._entry.meta, app._entry, imports=imports)


def test_an_interface_a_root_function_and_a_resource_in_python(app):
    Journal.events.clear()
    logger = Logger()
    component = _with(app, {"logger": logger, "clock": lambda: 42})
    assert component.go(3) == "main:3|3|42"
    assert logger.logged == [("info", "go 3")]
    # constructor, static function, and the guest's drops (its `with` blocks) all reached Python
    assert Journal.events == [("new", "main"), ("new", "side!"), ("drop", "side!"), ("drop", "main")]


def test_imports_may_be_dicts_and_full_names(app):
    Journal.events.clear()
    logger = {"log": lambda level, msg: None, "journal": Journal, "summarize": lambda j: j.title,
              "maybe-twice": lambda x: x}
    component = _with(app, {"test:host/logger@0.1.0": logger, "clock": lambda: 7})
    assert component.go(1) == "main|1|7"


def test_values_reach_python_faithfully(app):
    logger = Logger()
    component = _with(app, {"logger": logger, "clock": lambda: 2**64 - 1})
    for value in (None, Some(None), Some(Some(0))):
        assert component.roundtrip(value) == value
    assert logger.seen == [None, Some(None), Some(Some(0))]
    assert component.tick() == 2**64 - 1


def test_missing_imports_are_named_with_their_signatures(app):
    component = _with(app, {"logger": {"log": print}})
    with pytest.raises(LinkError) as info:
        component.tick()
    message = info.value.message
    assert "clock: func() -> u64" in message
    assert "test:host/logger@0.1.0: resource journal (a Python class Journal)" in message
    assert "test:host/logger@0.1.0#summarize: func(j: borrow<journal>) -> string" in message
    assert "maybe-twice: func(x: option<option<u32>>) -> option<option<u32>>" in message
    assert "test:host/logger@0.1.0#log" not in message  # supplied
    assert "stub_missing" in info.value.hint


def test_missing_resource_methods_are_named(app):
    class Partial:
        def __init__(self, title):
            pass

    component = _with(app, {"logger": {"log": print, "Journal": Partial, "summarize": str, "maybe_twice": str},
                            "clock": int})
    with pytest.raises(LinkError, match=r"\[method\]journal.write: func\(self: borrow<journal>, line: string\) -> u32"):
        component.tick()


def test_stub_missing_traps_only_when_a_missing_import_is_called(app):
    instance = app.instantiate({"clock": lambda: 9}, stub_missing=True, echo=False)
    assert instance.call(("tick",), app.exports["tick"].function, (), {}) == 9
    with pytest.raises(Trap):
        instance.call(("go",), app.exports["go"].function, (1,), {})


def test_a_raising_host_function_is_reported_and_the_next_call_works(app):
    def broken_clock():
        raise RuntimeError("clock is broken")

    component = _with(app, {"logger": Logger(), "clock": broken_clock})
    with pytest.raises(HostError, match="the host function clock raised RuntimeError: clock is broken"):
        component.tick()
    component.host_imports["clock"] = lambda: 1
    component.reset()
    assert component.tick() == 1


def test_a_host_result_of_the_wrong_type_is_refused(app):
    component = _with(app, {"logger": Logger(), "clock": lambda: -1})
    with pytest.raises(ArgumentError, match=r"the result of host function clock must be u64"):
        component.tick()
    assert _with(app, {"logger": Logger(), "clock": lambda: 3}).tick() == 3


STREAM_WIT = """\
package test:streaming;

world streamer {
  import checkpoint: func(step: u32);
  export wasi:cli/run@0.2.6;
}
"""

STREAM_PY = """\
import sys

import wit_world


class Run:
    def run(self):
        for step in range(3):
            print(f"step {step}", flush=True)
            print(f"warn {step}", file=sys.stderr, flush=True)
            wit_world.checkpoint(step)
        sys.exit(3)
"""


def test_command_output_streams_into_the_cell_while_it_runs(capsys):
    """A host import called between prints sees each line already in the cell's output."""
    wasmlab.define_wit(STREAM_WIT, origin="stream.wit")
    seen = []

    def checkpoint(step):
        captured = capsys.readouterr()
        seen.append((step, captured.out, captured.err))

    streamer = wasmlab.build(world="test:streaming/streamer", python=STREAM_PY, name="streamer", progress=False,
                             imports={"checkpoint": checkpoint})
    streamer.compiled()  # the first compile's progress lines are not the guest's
    capsys.readouterr()
    result = streamer.run()
    assert seen == [(step, f"step {step}\n", f"warn {step}\n") for step in range(3)]
    assert result.exit_code == 1  # WASI 0.2's exit carries only ok/err
    assert result.stdout == "step 0\nstep 1\nstep 2\n"
    assert result.stderr == "warn 0\nwarn 1\nwarn 2\n"
