import subprocess
import sys
import time

import pytest

import wasmlab
from wasmlab.errors import BuildError, LoadError, Trap

from guests import SHOP_PY

ADDER_WAT_MODULE = """\
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
"""


@pytest.fixture(scope="module")
def adder_wit():
    return wasmlab.define_wit("package demo:adder;\nworld adder { export add: func(a: u32, b: u32) -> u32; }")


def test_python_build_is_a_real_component(shop):
    assert shop.wasm.startswith(b"\0asm")
    assert shop.wasm_path.stat().st_size > 1_000_000  # componentize-py bundles CPython
    assert "hello" in shop.exports
    assert "acme:shop/pricing@0.1.0" in shop.exports


def test_unchanged_rebuild_comes_from_the_cache(shop):
    start = time.perf_counter()
    again = wasmlab.build(world="acme:shop/shop", python=SHOP_PY, progress=False)
    elapsed = time.perf_counter() - start
    assert again.cached and not shop.cached
    assert again.wasm_path == shop.wasm_path
    assert elapsed < 2.0  # a real build takes ~5 s; the figure itself lives in benchmarks/


def test_changed_source_is_a_new_build_key(shop):
    from wasmlab.toolchain import cache
    from wasmlab.toolchain.tools import tool_versions

    a = cache.input_key(kind="python", tools=tool_versions(), source=SHOP_PY)
    b = cache.input_key(kind="python", tools=tool_versions(), source=SHOP_PY + "\n# edit")
    assert a != b


def test_cache_survives_a_kernel_restart(shop):
    """A new process finds the build and the compiled artifact without rebuilding."""
    code = (
        "import time, wasmlab\n"
        "from guests import SHOP_WIT, SHOP_PY\n"
        "wasmlab.define_wit(SHOP_WIT)\n"
        "t = time.perf_counter()\n"
        "c = wasmlab.build(world='acme:shop/shop', python=SHOP_PY, progress=False, imports={'logger': {'log': print}})\n"
        "print(c.cached, c.hello('restart'))\n"
    )
    shop.hello("warm")  # makes sure the compiled artifact exists
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).parent))
    assert proc.returncode == 0, proc.stderr
    assert "True Hello, restart" in proc.stdout
    assert "compiling" not in proc.stderr


def test_python_syntax_error_points_into_the_source(shop_wit):
    source = "class WitWorld:\n    def hello(self, name)\n        return name\n"
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="acme:shop/shop", python=source, origin="cell", progress=False)
    assert info.value.location.line == 2
    assert "SyntaxError" in info.value.message


def test_missing_method_is_named_before_building(shop_wit):
    source = "class WitWorld:\n    def hello(self, name):\n        return name\n\nclass Pricing:\n    def total(self, items, tier):\n        return 0\n"
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="acme:shop/shop", python=source, origin="cell", progress=False)
    assert "Pricing lacks fail" in info.value.message
    assert info.value.location.line == 5
    assert "def fail(self, reason)" in info.value.hint


def test_missing_class_is_named(shop_wit):
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="acme:shop/shop", python="x = 1\n", origin="cell", progress=False)
    assert "no class" in info.value.message


def test_guest_import_error_maps_to_the_cell_line(shop_wit):
    source = "import json\nimport no_such_module\n" + SHOP_PY
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="acme:shop/shop", python=source, origin="cell", progress=False)
    assert "No module named 'no_such_module'" in info.value.message
    assert info.value.location.line == 2


def test_wat_core_module_becomes_a_component(adder_wit):
    adder = wasmlab.build(world="demo:adder/adder", wat=ADDER_WAT_MODULE, progress=False)
    assert adder.add(2, 40) == 42
    assert adder.add(0xFFFFFFFF, 1) == 0  # u32 wraps like the Wasm it is


def test_wat_syntax_error_is_located(adder_wit):
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="demo:adder/adder", wat="(module\n  (func (export \"add\") (param i32 i32) (result i32)\n    i32.bogus))",
                      origin="cell", progress=False)
    assert info.value.location.line == 3


def test_wat_module_with_wrong_exports_explains_the_naming(adder_wit):
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="demo:adder/adder", wat="(module (memory (export \"memory\") 1))", progress=False)
    assert "add" in info.value.render()


def test_stub_exports_trap(adder_wit):
    stub = wasmlab.build(world="demo:adder/adder", stub=True, progress=False)
    with pytest.raises(Trap) as info:
        stub.add(1, 2)
    assert info.value.trap_kind == "unreachable"


def test_load_existing_wasm_and_refuse_garbage(tmp_path, adder_wit):
    adder = wasmlab.build(world="demo:adder/adder", wat=ADDER_WAT_MODULE, progress=False)
    path = tmp_path / "adder.wasm"
    path.write_bytes(adder.wasm)
    loaded = wasmlab.load(path)
    assert loaded.name == "adder" and loaded.add(1, 2) == 3
    (tmp_path / "junk.wasm").write_bytes(b"\0asm\x0d\x00\x01\x00garbage")
    with pytest.raises(LoadError):
        wasmlab.load(tmp_path / "junk.wasm")
    with pytest.raises(LoadError):
        wasmlab.load(b"not wasm at all")
    core = tmp_path / "core.wasm"
    core.write_bytes(b"\0asm\x01\x00\x00\x00")
    with pytest.raises(LoadError, match="core WebAssembly module"):
        wasmlab.load(core)


def test_exactly_one_source_is_required():
    with pytest.raises(BuildError):
        wasmlab.build(world="demo:adder/adder")
    with pytest.raises(BuildError):
        wasmlab.build(world="demo:adder/adder", stub=True, python="x")


ADDER_COMPONENT_WAT = """\
(; a component written by hand, with a comment first ;)
(component
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (export "add" (func $add)))
"""


@pytest.mark.parametrize("source", ["", "  \n", ";; only a comment\n(; and another ;)"])
def test_empty_wat_says_it_is_empty(adder_wit, source):
    with pytest.raises(BuildError, match="the WAT is empty"):
        wasmlab.build(world="demo:adder/adder", wat=source, progress=False)


def test_wat_component_must_implement_the_world_it_is_built_for(adder_wit):
    assert wasmlab.build(world="demo:adder/adder", wat=ADDER_COMPONENT_WAT, progress=False).add(2, 3) == 5
    wasmlab.define_wit("package demo:subber;\nworld subber { export sub: func(a: u32, b: u32) -> u32; }")
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="demo:subber/subber", wat=ADDER_COMPONENT_WAT, progress=False)
    assert info.value.message == "the component does not implement the world demo:subber/subber"
    assert info.value.detail == "it does not export `sub`"


def test_cli_build_refuses_a_wat_component_of_another_world(tmp_path):
    from helpers import run_cli

    (tmp_path / "subber.wit").write_text("package demo:subber;\nworld subber { export sub: func(a: u32) -> u32; }\n")
    (tmp_path / "adder.wat").write_text(ADDER_COMPONENT_WAT)
    proc = run_cli("build", "--wit", "subber.wit", "--world", "subber", "--wat", "adder.wat", "-o", "out.wasm",
                   cwd=tmp_path)
    assert proc.returncode == 1
    assert "build error: the component does not implement the world subber\n" in proc.stderr
    assert not (tmp_path / "out.wasm").exists()


def test_wat_cells_tell_components_from_modules_past_comments_and_refuse_empty_cells(tmp_path):
    # a shell of its own in a child process: the test session's global shell belongs to test_magics
    code = f"""
from IPython.core.interactiveshell import InteractiveShell
import wasmlab
ip = InteractiveShell.instance()
ip.extension_manager.load_extension("wasmlab")
assert ip.run_cell("%%wat commented\\n" + {ADDER_COMPONENT_WAT!r}, silent=True).success
print(type(ip.user_ns["commented"]).__name__, ip.user_ns["commented"].add(1, 1))
ip.run_cell('%%wat module\\n;; a core module\\n(module (func (export "one") (result i32) i32.const 1))', silent=True)
print(type(ip.user_ns["module"]).__name__, ip.user_ns["module"].one())
empty = ip.run_cell("%%wat nothing\\n;; to do\\n", silent=True).error_in_exec
print(type(empty).__name__, empty.message)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["Component 2", "CoreModule 1"] and lines[-1] == "WasmlabError the %%wat cell is empty"
    assert "error: the %%wat cell is empty" in lines and "Traceback" not in proc.stdout  # as the cell shows it
