"""How fast a call from Python is: wasmlab vs wasmtime-py's generic path vs the raw C call.

Measured side by side in one run on a small WAT component (no WASI):
  * a scalar call ``add(u32, u32) -> u32`` through wasmlab (``component.add(1, 2)``), through
    ``wasmtime.component.Func.__call__`` and through ``wasmtime_component_func_call`` directly;
  * a string call ``echo(string) -> string`` through wasmlab, against the scalar one;
  * instantiating a fresh instance of the component.
Targets (issue 3): wasmlab >= 5x faster than Func.__call__ for the scalar call, strings within 2x
of scalars, a fresh instance in under 1 ms.  Also shown: what a time limit adds to a call.  Run: ``python benchmarks/bench_calls.py``.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import timeit

WIT = """\
package bench:calls;

world calls {
  export add: func(a: u32, b: u32) -> u32;
  export echo: func(s: string) -> string;
}
"""

WAT = """\
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "echo") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.const 16))
  (func (export "cabi_post_echo") (param i32) (global.set $heap (i32.const 1024)))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $at)))
"""


def per_call(cases: dict, number: int, rounds: int = 15) -> dict:
    """Microseconds per call of each case: the best of ``rounds`` rounds, the cases taking turns
    within a round so that a busy machine slows them all alike."""
    best = {name: float("inf") for name in cases}
    for _ in range(rounds):
        for name, (fn, scale) in cases.items():
            count = max(1, number // scale)
            best[name] = min(best[name], timeit.timeit(fn, number=count) / count * 1e6)
    return best


def main() -> None:
    os.environ.setdefault("WASMLAB_CACHE_DIR", tempfile.mkdtemp(prefix="wasmlab-bench-"))
    import wasmtime
    from wasmtime import _ffi as ffi
    from wasmtime import component as wc

    import wasmlab
    from wasmlab.runtime import engines

    wasmlab.define_wit(WIT)
    comp = wasmlab.build(world="bench:calls/calls", wat=WAT, progress=False)
    assert comp.add(1, 2) == 3 and comp.echo("héllo") == "héllo"

    # wasmtime-py's generic path on the same compiled component, in a store of its own
    engine = engines.engine()
    compiled = comp.compiled()
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1 << 62)
    instance = wc.Linker(engine).instantiate(store, compiled)
    func = instance.get_func(store, compiled.get_export_index("add"))
    assert func(store, 1, 2) == 3

    # the raw C call, values prepared once
    params = (ffi.wasmtime_component_val_t * 2)()
    for i in range(2):
        params[i].kind = ffi.WASMTIME_COMPONENT_U32
        params[i].of.u32 = i + 1
    result = ffi.wasmtime_component_val_t()
    raw_func = ctypes.byref(func._func)
    call_c = ffi.wasmtime_component_func_call  # post-return runs inside it (wasmtime >= 43)
    result_ref = ctypes.byref(result)

    def raw():
        call_c(raw_func, store._context(), params, 2, result_ref, 1)

    raw()
    assert result.of.u32 == 3

    limited = wasmlab.load(comp.wasm_path)
    limited.limits = wasmlab.Limits(timeout=60)
    limited_add = limited.add
    assert limited_add(2, 2) == 4

    add, echo = comp.add, comp.echo
    bound = comp._default_instance().bound(("add",), comp.exports["add"].function)
    text = "hello, world"
    figures = per_call({
        "wasmlab   add(1, 2)": (lambda: add(1, 2), 1),
        "wasmlab   value path only (BoundFunction: check, lower, call, lift)": (lambda: bound(1, 2), 1),
        "wasmtime  Func.__call__ add": (lambda: func(store, 1, 2), 1),
        "raw C     wasmtime_component_func_call add": (raw, 1),
        "wasmlab   add(1, 2) with a time limit": (lambda: limited_add(1, 2), 1),
        "wasmlab   echo('hello, world')": (lambda: echo(text), 1),
        "wasmlab   fresh instance": (lambda: comp.instantiate(echo=False), 50),
    }, number=4000)
    width = max(map(len, figures))
    for name, micros in figures.items():
        print(f"{name:<{width}}  {micros:9.2f} µs")
    ours, generic = figures["wasmlab   add(1, 2)"], figures["wasmtime  Func.__call__ add"]
    raw_c, string = figures["raw C     wasmtime_component_func_call add"], figures["wasmlab   echo('hello, world')"]
    fresh = figures["wasmlab   fresh instance"]
    print()
    print(f"scalar call: wasmlab is {generic / ours:.1f}x faster than Func.__call__ (target >= 5x); "
          f"{ours / raw_c:.1f}x the raw C call")
    value_path = figures["wasmlab   value path only (BoundFunction: check, lower, call, lift)"]
    print(f"  the value path alone is {generic / value_path:.1f}x faster than Func.__call__; the rest of a call "
          f"({ours - value_path:.2f} µs) finds the instance, keeps Ctrl-C and time limits armed, meters WASI use")
    print(f"string call: {string / ours:.2f}x the scalar call (target <= 2x)")
    print(f"a time limit adds {figures['wasmlab   add(1, 2) with a time limit'] - ours:.2f} µs to a call")
    print(f"fresh instance: {fresh / 1000:.3f} ms (target < 1 ms)")


if __name__ == "__main__":
    main()
