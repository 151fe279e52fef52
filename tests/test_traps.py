"""Traps in components: each kind is named, with a short Wasm backtrace of function names,
and neither the kernel nor the next call is affected.  The guest is a WAT core module made
into a component (fast to build); its functions carry names so backtraces can show them."""

from __future__ import annotations

import pytest

import wasmlab
from wasmlab.errors import Trap

TRAPS_WIT = """\
package test:traps;

world traps {
  export crash: func();
  export peek: func(addr: u32) -> u32;
  export recurse: func(n: u32) -> u32;
  export divide: func(a: s32, b: s32) -> s32;
  export call-slot: func(slot: u32) -> u32;
  export truncate: func(x: f32) -> s32;
  export double: func(x: u32) -> u32;
}
"""

TRAPS_WAT = """\
(module
  (type $unary (func (param i32) (result i32)))
  (type $nullary (func (result i32)))
  (memory (export "memory") 1)
  (table 3 funcref)
  (elem (i32.const 0) $twice $constant)
  (func $twice (type $unary) (i32.mul (local.get 0) (i32.const 2)))
  (func $constant (type $nullary) (i32.const 7))
  (func $explode (unreachable))
  (func $crash_inner (call $explode))
  (func $crash (export "crash") (call $crash_inner))
  (func $peek (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $divide (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $call_slot (export "call-slot") (param i32) (result i32)
    (call_indirect (type $unary) (i32.const 21) (local.get 0)))
  (func $truncate (export "truncate") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func $double (export "double") (param i32) (result i32) (call $twice (local.get 0)))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
"""


@pytest.fixture(scope="module")
def traps():
    wasmlab.define_wit(TRAPS_WIT, origin="traps.wit")
    return wasmlab.build(world="test:traps/traps", wat=TRAPS_WAT, name="traps", progress=False)


@pytest.mark.parametrize("call, kind, frame", [
    (lambda t: t.crash(), "unreachable", "explode"),
    (lambda t: t.peek(70_000), "out-of-bounds memory access", "peek"),
    (lambda t: t.recurse(0), "stack overflow", "recurse"),
    (lambda t: t.divide(1, 0), "integer divide by zero", "divide"),
    (lambda t: t.divide(-2**31, -1), "integer overflow", "divide"),
    (lambda t: t.call_slot(1), "indirect call signature mismatch", "call_slot"),
    (lambda t: t.call_slot(2), "uninitialized table element", "call_slot"),
    (lambda t: t.call_slot(5), "out-of-bounds table access", "call_slot"),
    (lambda t: t.truncate(float("nan")), "invalid conversion to integer", "truncate"),
])
def test_each_trap_kind_is_named_with_a_backtrace(traps, call, kind, frame):
    with pytest.raises(Trap) as info:
        call(traps)
    trap = info.value
    assert trap.trap_kind == kind
    assert trap.message.startswith(kind)
    assert trap.backtrace and len(trap.backtrace) <= 8
    assert any(frame in f for f in trap.backtrace), trap.backtrace
    text = trap.render()
    assert "wasm backtrace:" in text and "Traceback" not in text and "wasmlab/" not in text
    assert len(text.splitlines()) <= 14  # a few lines, not a wall
    assert traps.double(21) == 42  # the next call runs in a fresh instance


def test_the_backtrace_shows_the_call_chain(traps):
    with pytest.raises(Trap) as info:
        traps.crash()
    frames = info.value.backtrace
    names = " ".join(frames)
    assert names.index("explode") < names.index("crash_inner")  # innermost first


def test_a_trapped_instance_is_never_reused(traps):
    instance = traps.instantiate(echo=False)
    fn = traps.exports["divide"].function
    with pytest.raises(Trap):
        instance.call(("divide",), fn, (1, 0), {})
    with pytest.raises(wasmlab.WasmlabError, match="trapped earlier"):
        instance.call(("divide",), fn, (4, 2), {})
    assert traps.divide(4, 2) == 2


def test_traps_from_the_command_line_exit_non_zero(traps):
    from helpers import run_cli

    done = run_cli("call", str(traps.wasm_path), "divide(1, 0)")
    assert done.returncode == 1
    assert "integer divide by zero" in done.stderr and "divide" in done.stderr
    assert "Traceback" not in done.stderr
