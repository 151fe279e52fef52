"""Core modules: called from Python, run as WASI programs, and the sandbox's checks trapping."""

import pytest

import wasmlab
from wasmlab.errors import ArgumentError, BuildError, LoadError, Trap
from wasmlab.runtime.core_modules import load_module

from guests import HELLO_WASI_WAT

CHECKS_WAT = """\
(module
  (type $unary (func (param i32) (result i32)))
  (type $binary (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $double $add)
  (func $double (type $unary) (i32.mul (local.get 0) (i32.const 2)))
  (func $add (type $binary) (i32.add (local.get 0) (local.get 1)))
  (func (export "add") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "call_unary") (param i32 i32) (result i32)
    (call_indirect (type $unary) (local.get 1) (local.get 0)))
  (func (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "forever") (loop $l (br $l))))
"""


@pytest.fixture(scope="module")
def checks():
    return load_module(CHECKS_WAT, name="checks")


def test_numbers_in_and_out(checks):
    assert checks.add(2, 3) == 5
    assert checks.call_unary(0, 21) == 42  # table slot 0 has the right signature
    assert "add: func(i32, i32) -> i32" in checks.summary()


def test_out_of_bounds_memory_access_traps(checks):
    with pytest.raises(Trap) as info:
        checks.load(70000)  # one 64 KiB page of memory
    assert info.value.trap_kind == "out-of-bounds memory access"
    assert checks.load(0) == 0  # the next call works


def test_indirect_call_with_the_wrong_signature_traps(checks):
    with pytest.raises(Trap) as info:
        checks.call_unary(1, 5)  # slot 1 holds a two-parameter function
    assert info.value.trap_kind == "indirect call signature mismatch"


def test_divide_by_zero_and_time_limit(checks):
    with pytest.raises(Trap) as info:
        checks.divide(1, 0)
    assert info.value.trap_kind == "integer divide by zero"
    from wasmlab.capabilities import Limits

    checks.limits = Limits(timeout=0.2)
    try:
        with pytest.raises(Trap) as info:
            checks.forever()
        assert info.value.trap_kind == "timeout"
    finally:
        checks.limits = Limits()


def test_wrong_arguments_are_refused_before_the_call(checks):
    with pytest.raises(ArgumentError):
        checks.add(1)
    with pytest.raises(ArgumentError):
        checks.add("1", 2)
    with pytest.raises(ArgumentError):
        checks.add(1 << 40, 2)


def test_wasi_program_output_and_exit_code():
    hello = load_module(HELLO_WASI_WAT, name="hello")
    assert hello.is_wasi
    result = hello.run(echo=False)
    assert result.stdout == "hello from WASI\n"
    assert result.exit_code == 3


def test_bad_modules_are_clear_errors(tmp_path):
    with pytest.raises(BuildError) as info:
        load_module("(module\n  (func (result i32)\n    i32.nonsense))", origin="cell")
    assert info.value.location.line == 3
    with pytest.raises(LoadError):
        load_module(b"\0asm\x01\x00\x00\x00\xff\xff")
    with pytest.raises(LoadError):
        load_module(tmp_path / "missing.wasm")


def test_text_that_is_not_unicode_is_a_located_error_that_prints(tmp_path):
    with pytest.raises(LoadError) as info:
        load_module("(module\n  (func \ud800))", origin="cell")
    assert (info.value.location.line, info.value.location.column) == (2, 9)
    assert "lone surrogate" in str(info.value) and str(info.value).encode("utf-8")
    undecodable = tmp_path / "caf\udce9.wasm"  # a file name's undecodable byte, as Python holds it
    for load in (load_module, wasmlab.load):
        with pytest.raises(LoadError) as info:
            load(str(undecodable))
        assert "caf\\udce9.wasm: no such file" in str(info.value)
        print(info.value)  # printable on a UTF-8 stream, where the lone surrogate itself is not
    with pytest.raises(LoadError, match="not WAT text") as info:
        wasmlab.load("(component)")
    assert "wasmlab.build(wat=" in info.value.hint


INTERRUPT_SCRIPT = """
import os, signal, threading, time
from wasmlab.runtime.core_modules import load_module
m = load_module('(module (func (export "forever") (loop $l (br $l))) (func (export "one") (result i32) i32.const 1))')
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.time()
try:
    m.forever()
except KeyboardInterrupt:
    print("interrupted after %.1f s" % (time.time() - start))
print("next call:", m.one())
"""


def test_ctrl_c_stops_running_wasm_and_the_process_goes_on():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", INTERRUPT_SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("interrupted after")
    assert float(lines[0].split()[2]) < 10
    assert lines[1] == "next call: 1"


def test_fuel_is_deterministic_and_a_budget_stops_endless_loops(checks):
    from wasmlab.capabilities import Limits

    checks.limits = Limits(fuel=1_000_000)
    try:
        checks.add(1, 2)
        first = checks.fuel_consumed
        checks.add(1, 2)
        assert first == checks.fuel_consumed and 0 < first < 100
        with pytest.raises(Trap) as info:
            checks.forever()
        assert info.value.trap_kind == "fuel"
        assert "fuel budget of 1,000,000" in info.value.message
        assert checks.fuel_consumed == 1_000_000
        assert checks.add(2, 2) == 4
    finally:
        checks.limits = Limits()


def test_uninterruptible_runs_drop_the_epoch_checks(checks):
    from wasmlab.capabilities import Limits
    from wasmlab.errors import ArgumentError

    checks.limits = Limits(interruptible=False)
    try:
        assert checks.add(20, 22) == 42
        assert checks.compiled(__import__("wasmlab.runtime.engines").runtime.engines.EngineKind(interruptible=False)) is not checks.compiled()
    finally:
        checks.limits = Limits()
    with pytest.raises(ArgumentError):
        Limits(timeout=1, interruptible=False)
