"""The runtime's shape: an export named like a component's own attribute stays reachable (by
item access, which always means an export) and misusing the method says so; what the runtime
keeps per WIT type or per instance stays bounded when cells are re-run."""

from __future__ import annotations

import gc

import pytest

import wasmlab
from wasmlab import values
from wasmlab.errors import ArgumentError, GuestError, WasmlabError
from wasmlab.runtime import codecs, host_imports
from wasmlab.wittypes import EnumT, Prim, RecordT, Resolve, ResultT

APP_WIT = """\
package state:app;

world app {
  record point { x: u32, y: u32 }
  enum shade { light, dark }
  import tick: func(n: u32) -> u32;
  export run: func(n: u32) -> string;
  export call: func(a: u32, b: u32) -> u32;
  export twice: func(n: u32) -> u32;
  export far: func(p: point) -> u32;
}
"""

# run(n) returns "ok"; call(a, b) = a + b; twice(n) asks the host's tick(n); far(p) = x + y
APP_WAT = """\
(module
  (import "$root" "tick" (func $tick (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "ok")
  (func (export "run") (param i32) (result i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 2))
    (i32.const 16))
  (func (export "call") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "twice") (param i32) (result i32) (call $tick (local.get 0)))
  (func (export "far") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
"""


@pytest.fixture(scope="module")
def app():
    wasmlab.define_wit(APP_WIT, origin="app.wit")
    return wasmlab.build(world="state:app/app", wat=APP_WAT, name="app", progress=False,
                         imports={"tick": lambda n: n * 2})


def test_an_export_named_like_a_method_is_reached_by_item_access(app):
    assert app["run"](4) == "ok"
    assert app["call"](3, 4) == 7
    assert app.twice(5) == 10 and app["twice"](5) == 10
    assert app.shadowed_exports == ["call", "run"]
    assert 'reachable only by item access: app["call"], app["run"]' in app.summary()


def test_the_method_misused_for_the_export_names_item_access(app):
    with pytest.raises(WasmlabError) as info:
        app.run(4)  # not a command: the caller meant the export
    assert info.value.message == '`run` is also an export of app: call it as app["run"](...)'
    with pytest.raises(WasmlabError, match=r'`call` is also an export of app: call it as app\["call"\]'):
        app.call(3, 4)
    assert app.call("call", 3, 4) == 7  # the method itself still works


def test_a_method_without_a_namesake_export_keeps_its_own_message(app):
    with pytest.raises(ArgumentError, match=r"an export is named by a str, not int: 4"):
        app.export(4)


def _fresh_types(resolve_json) -> tuple[RecordT, EnumT]:
    """The record and enum of the app's world as a re-run %%wit cell makes them: new objects."""
    types = {}
    for world_type in Resolve(resolve_json).types:
        if isinstance(world_type, (RecordT, EnumT)):
            types[type(world_type)] = world_type
    return types[RecordT], types[EnumT]


def test_redefining_wit_200_times_keeps_the_per_type_caches_bounded(app):
    resolve_json = app._entry.meta["resolve"]
    for _ in range(200):
        record, enum = _fresh_types(resolve_json)
        point = codecs.codec(record).lift  # what binding a function to the new types builds
        assert codecs.codec(enum).check("dark", "s") == "dark" and point is not None
    for cache in (values.record_class, values.enum_class):
        info = cache.cache_info()
        assert info.maxsize is not None and info.currsize <= info.maxsize
    assert values.record_class(record) is values.record_class(record)  # the latest definition's class stays


def test_instantiating_200_times_leaves_no_host_functions_behind(app):
    gc.collect()
    before = len(host_imports._HOST_FUNCTIONS)
    for _ in range(200):
        instance = app.instantiate()
        assert instance.call(("twice",), app.exports["twice"].function, (1,), {}) == 2
        instance.close()
        del instance
    gc.collect()
    assert len(host_imports._HOST_FUNCTIONS) <= before + 1


@pytest.mark.parametrize("result_type, payload, shown", [
    (ResultT(Prim("u32"), Prim("string")), "bad", 'f returned err("bad")'),
    (ResultT(Prim("u32"), Prim("u32")), 7, "f returned err(7)"),
    (ResultT(Prim("u32"), None), None, "f returned err"),
])
def test_every_call_path_unwraps_a_result_one_way(result_type, payload, shown):
    # sync, async and wasmtime-CLI calls all unwrap through codecs.unwrap_result
    assert codecs.unwrap_result(values.Ok(3), result_type, "f") == 3
    with pytest.raises(GuestError) as info:
        codecs.unwrap_result(values.Err(payload), result_type, "f")
    assert info.value.message == shown and info.value.payload == payload
    assert ".result(" in info.value.hint


COMMAND_WIT = "package state:cmd;\n\nworld cmd {\n  export wasi:cli/run@0.2.6;\n}\n"
COMMAND_WAT = """\
(module
  (memory (export "memory") 1)
  (func (export "wasi:cli/run@0.2.6#run") (result i32) i32.const 0)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
"""


def test_a_commands_run_export_is_what_run_runs_not_a_collision():
    wasmlab.define_wit(COMMAND_WIT, origin="cmd.wit")
    command = wasmlab.build(world="state:cmd/cmd", wat=COMMAND_WAT, name="cmd", progress=False)
    assert command.shadowed_exports == [] and "item access" not in command.summary()
    assert command.run(echo=False).exit_code == 0
