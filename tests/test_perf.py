"""Wasm vs native: the same C program, compiled both ways, computes the same thing."""

import shutil

import pytest

from wasmlab import perf

needs_wasm_clang = pytest.mark.skipif(
    perf.toolchain().wasm is None,
    reason="no wasm32-wasi clang (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32); "
           "the prebuilt .wasm files are used instead")
needs_cc = pytest.mark.skipif(perf.toolchain().native is None, reason="no native C compiler (cc/gcc) on this machine")


@needs_cc
@pytest.mark.parametrize("simd", [False, True])
def test_linpack_native_and_wasm_agree(simd):
    native = perf.run_native(perf.compile_c("linpack", target="native", simd=simd), "120", "1")
    wasm = perf.run_wasm(perf.compile_c("linpack", target="wasm32-wasi", simd=simd), "120", "1")
    assert native["n"] == wasm["n"] == 120
    assert native["max_error"] < 1e-9 and wasm["max_error"] < 1e-9
    assert native["mflops"] > 0 and wasm["mflops"] > 0


@needs_cc
def test_matmul_native_and_wasm_agree():
    native = perf.run_native(perf.compile_c("matmul", target="native"), "64", "1")
    wasm = perf.run_wasm(perf.compile_c("matmul", target="wasm32-wasi"), "64", "1")
    assert native["checksum"] == wasm["checksum"]


@needs_wasm_clang
def test_prebuilt_wasm_matches_a_fresh_build(tmp_path):
    from importlib.resources import files

    for name in perf.PROGRAMS:
        prebuilt = tmp_path / f"{name}.wasm"
        shutil.copyfile(str(files("wasmlab") / "programs" / f"{name}.wasm"), prebuilt)
        fresh = perf.compile_c(name, target="wasm32-wasi")
        a, b = perf.run_wasm(prebuilt, "48", "1"), perf.run_wasm(fresh, "48", "1")
        assert {k: v for k, v in a.values.items() if k not in ("seconds", "mflops", "gflops")} == \
               {k: v for k, v in b.values.items() if k not in ("seconds", "mflops", "gflops")}


@needs_cc
def test_startup_costs_and_chart():
    costs = perf.startup_costs(repeats=3)
    assert set(costs) == {"native process", "wasm instance"} and all(v > 0 for v in costs.values())
    bundle = perf.bar_chart({k: v * 1e3 for k, v in costs.items()}, unit="ms", title="start-up")._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and "native process" in bundle["text/plain"]
