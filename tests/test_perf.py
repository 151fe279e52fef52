"""Wasm vs native: the same C program, compiled both ways, computes the same thing."""

import shutil

import pytest

from wasmlab.course.deck import LINPACK
from wasmlab.runtime import perf

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
        shutil.copyfile(str(files("wasmlab.course") / "programs" / f"{name}.wasm"), prebuilt)
        fresh = perf.compile_c(name, target="wasm32-wasi")
        a, b = perf.run_wasm(prebuilt, "48", "1"), perf.run_wasm(fresh, "48", "1")
        assert {k: v for k, v in a.values.items() if k not in ("seconds", "mflops", "gflops")} == \
               {k: v for k, v in b.values.items() if k not in ("seconds", "mflops", "gflops")}


@needs_cc
@pytest.mark.parametrize("simd", [False, True])
def test_compare_runs_both_engines_on_the_same_work(simd):
    row = perf.compare("matmul", "40", "1", simd=simd)
    assert row.same_result()
    assert row.native["n"] == row.wasm["n"] == row.wasm_plain["n"] == 40
    assert row.ratio() == row.wasm_plain["gflops"] / row.native["gflops"]
    assert row.ratio(plain=False) == row.wasm["gflops"] / row.native["gflops"]
    assert ("+SIMD" in repr(row)) == simd and "of native" in repr(row)


@needs_cc
def test_startup_costs_and_chart(tmp_path):
    import wasmlab

    wit = tmp_path / "tiny.wit"
    wit.write_text("package perftest:tiny;\nworld tiny { export answer: func() -> u32; }\n")
    wasmlab.define_wit(wit.read_text())
    tiny = wasmlab.build(world="perftest:tiny/tiny", wat='(module (func (export "answer") (result i32) (i32.const 7)))',
                         progress=False)
    costs = perf.startup_costs(repeats=3, components={"component": tiny})
    assert set(costs) == {"native process", "python process", "wasm instance", "component"}
    assert all(v > 0 for v in costs.values())
    chart = perf.bar_chart({k: v * 1e3 for k, v in costs.items()}, unit="ms", title="start-up", reference=1.0,
                           reference_label="1 ms", highlight="native")
    bundle = chart._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert svg.count("<rect") == 4 and "stroke-dasharray" in svg and "#f0a030" in svg
    assert "native process" in bundle["text/plain"] and bundle["text/plain"].startswith("start-up")


def test_deck_figures_give_the_deck_ratio():
    assert round(LINPACK["linpack wasmtime mflops"] / LINPACK["linpack native mflops"], 2) == 0.53
