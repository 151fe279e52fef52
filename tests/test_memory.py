"""Memory a learner's kernel keeps (issue #17): component binaries are let go of once used, freed blocks
go back to the system, and a shown error does not hold what it was working on.  Bounds are relative to a
baseline measured in the same test, and generous: each would be exceeded several times over without the
mechanism it checks."""

from __future__ import annotations

import gc
import sys

import pytest

from guests import calculator_wat
from helpers import ipython_shell
from kernel_memory import pss_mb

import wasmlab
from wasmlab.runtime import memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps_rollup")

MB = 1 << 20


def anon_mb() -> float:
    return pss_mb("self", "Pss_Anon")


def test_freed_blocks_go_back_to_the_system_after_a_larger_one_was_freed():
    assert memory.return_large_blocks()
    big = bytearray(b"y" * (30 * MB))  # freeing them would raise glibc's own threshold to 30 MB
    del big
    before = anon_mb()
    block = bytearray(b"x" * (16 * MB))  # every page touched (the bytes and their copy)
    assert anon_mb() - before > 12
    del block
    assert anon_mb() - before < 4  # without the setting the process kept all 32 MB


def test_a_composition_keeps_no_binary_of_the_components_it_embeds(tmp_path):
    adder, calculator = calculator_wat("memtest")
    (tmp_path / "adder.wat").write_text(adder)
    (tmp_path / "calculator.wat").write_text(calculator)
    composed = wasmlab.compose("""package memtest:app;
let adder = new memtest:adder { ... };
let calc = new memtest:calculator { "memtest:calc/add": adder["memtest:calc/add"], ... };
export calc.calculate;
""", name="calc", packages={"memtest:adder": tmp_path / "adder.wat", "memtest:calculator": tmp_path / "calculator.wat"})
    packages = composed.composition.graph.packages()
    assert len(packages) == 2 and all(package.bytes is None for package in packages)
    assert composed.composition.encoded is None
    assert composed.composition.wasm == composed.wasm  # read from the cache file when asked for
    assert composed.calculate(2, 3) == 10
    assert "adder" in composed.composition.text() and composed.composition.wires


def _compose_shop(name: str):
    return wasmlab.compose("package memtest:shop;\nlet s = new acme:shop { ... };\nexport s.pricing;\n",
                           name=name, packages={"acme:shop": _SHOP[0]})


_SHOP: list = []


def test_compositions_of_python_guests_do_not_each_hold_their_components(shop):
    """Each composition embeds the shop (a Python guest: CPython inside, ~18 MB); kept alive, as a
    learner's variables keep them, six compositions held ~36 MB each (the encoded bytes and the
    packages read to encode them)."""
    memory.return_large_blocks()
    _SHOP[:] = [shop]
    size = shop.wasm_path.stat().st_size / MB
    assert size > 10  # the bound below means something only for a big guest
    kept = [_compose_shop("first")]
    kept[0].host_imports = {"logger": {"log": lambda msg: None}}
    assert kept[0].pricing.total([{"name": "a", "price": 10, "qty": 2}], "bronze") == 20
    gc.collect()
    before = anon_mb()
    kept += [_compose_shop(f"again{i}") for i in range(5)]
    kept[-1].host_imports = {"logger": {"log": lambda msg: None}}
    assert kept[-1].pricing.total([{"name": "a", "price": 10, "qty": 2}], "bronze") == 20
    grown = anon_mb() - before
    assert grown < size, f"five more compositions kept {grown:.0f} MB ({size:.0f} MB per component)"


def test_a_shown_wasmlab_error_lets_go_of_what_its_frames_held(shop):
    """A WAC error in a cell: IPython keeps it as the last error, and its traceback held the resolver's
    frames with every package it had read.  Counted without the cyclic collector, which runs rarely."""
    memory.return_large_blocks()
    shell = ipython_shell()
    shell.user_ns["memtest_shop"] = shop
    size = shop.wasm_path.stat().st_size / MB
    cell = ("%%wac memtest_broken\npackage memtest:broken;\nlet s = new acme:shop { ... };\n"
            "export s.no-such-export;\n")
    shell.run_cell(cell.replace("acme:shop", "memtest-shop"))  # warm: the first cell imports what it needs
    gc.collect()
    gc.disable()
    try:
        before = anon_mb()
        for _ in range(5):
            result = shell.run_cell("%%wac memtest_broken --dep acme:shop=memtest_shop\n" + cell.split("\n", 1)[1])
            assert isinstance(result.error_in_exec, wasmlab.WasmlabError)
            assert "no-such-export" in str(result.error_in_exec)
        grown = anon_mb() - before
    finally:
        gc.enable()
    assert grown < size, f"five shown errors kept {grown:.0f} MB ({size:.0f} MB per component read)"
    assert shell.user_ns["memtest_shop"] is shop


def test_code_compiled_in_the_kernel_is_then_mapped_from_the_cache_file(tmp_path):
    """A first compile's code sits in the process's own memory; it is swapped for the cache file's
    mapping, which every kernel shares."""
    adder, _ = calculator_wat("memmap")
    (tmp_path / "adder.wat").write_text(adder.replace("i32.add", "i32.add i32.const 0 i32.add"))  # new to the cache
    component = wasmlab.load(tmp_path / "adder.wat", name="adder")
    compiled = component.compiled()
    mapped = [line.split()[-1] for line in open("/proc/self/maps") if line.rstrip().endswith(".cwasm")]
    assert any(component._entry.key in path for path in mapped), mapped
    assert compiled.get_export_index("memmap:calc/add") is not None


def test_compiling_a_python_guest_leaves_the_compilers_memory_behind(shop):
    """Cranelift frees hundreds of MB into its worker thread's malloc arena, which kept them."""
    from wasmlab.runtime.engines import EngineKind

    size = shop.wasm_path.stat().st_size / MB
    gc.collect()
    before = anon_mb()
    shop.compiled(EngineKind(fuel=True))  # an engine kind not compiled for yet: a real compile
    grown = anon_mb() - before
    assert grown < size, f"a compile kept {grown:.0f} MB"
