"""One component, two engines: the same exports under wasmtime and under Node (jco + preview2-shim)."""

from __future__ import annotations

import math
import subprocess

import pytest

import wasmlab
from wasmlab.errors import ArgumentError, GuestError, WasmlabError

from kitchen_sink import kitchen_sink
from languages import js_greeter, require_node, run_cli, shared_tools_dir

pytestmark = pytest.mark.slow

POINT = {"x": 3, "y": -4}
PERSON = {"name": "Zoë", "age": 36, "tags": ["a", "b"], "home": POINT, "color": "blue-ish", "perms": {"read", "exec"}}

SAMPLES = [
    ("echo_bool", True), ("echo_s8", -128), ("echo_s16", 32767), ("echo_s32", -2**31), ("echo_s64", -2**63),
    ("echo_u8", 255), ("echo_u16", 65535), ("echo_u32", 2**32 - 1), ("echo_u64", 2**64 - 1),
    ("echo_f32", 1.5), ("echo_f32", float("inf")), ("echo_f64", -0.0), ("echo_f64", 1e308),
    ("echo_char", "λ"), ("echo_char", "🦀"), ("echo_string", ""), ("echo_string", "héllo\n\0wörld 🦀"),
    ("echo_bytes", b"\x00\xffab"), ("echo_list", [1, -2, 2**31 - 1]), ("echo_list", []),
    ("echo_strings", ["a", "", "ü"]), ("echo_tuple", (7, "x", 2.5)), ("echo_point", POINT),
    ("echo_person", PERSON), ("echo_person", {**PERSON, "home": None, "perms": set(), "tags": []}),
    ("echo_shape", wasmlab.Variant("circle", 1.25)), ("echo_shape", wasmlab.Variant("rect", POINT)),
    ("echo_shape", "dot"), ("echo_shapes", ["dot", wasmlab.Variant("circle", 2.0)]),
    ("echo_color", "green"), ("echo_perms", {"write", "read"}), ("echo_option", None), ("echo_option", 5),
    ("echo_nested", None), ("echo_nested", wasmlab.Some(None)), ("echo_nested", wasmlab.Some(wasmlab.Some(9))),
    ("echo_result", wasmlab.Ok(3)), ("echo_unit_result", wasmlab.Ok()),
]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def kitchen(monkeypatch_module):
    require_node()
    monkeypatch_module.setenv("WASMLAB_TOOLS_DIR", str(shared_tools_dir()))
    component = kitchen_sink()
    yield component
    component.engine("node").close()


@pytest.fixture(scope="module")
def node(kitchen):
    return kitchen.engine("node")


@pytest.mark.parametrize("name, value", SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_node_results_equal_wasmtime_results(kitchen, node, name, value):
    under_wasmtime = getattr(kitchen.kit, name)(value)
    under_node = getattr(node.kit, name)(value)
    assert under_node == under_wasmtime
    assert type(under_node) is type(under_wasmtime)
    assert repr(under_node) == repr(under_wasmtime)  # the same WAVE: enums, flags, records alike


def test_nan_round_trips_under_node(node):
    assert math.isnan(node.kit.echo_f64(float("nan")))


def test_root_function_and_results_under_node(kitchen, node):
    assert node.add(2**32 - 1, 1) == kitchen.add(2**32 - 1, 1) == 0
    assert node.kit.checked_div(7, 2) == 3
    with pytest.raises(GuestError) as info:
        node.kit.checked_div(1, 0)
    assert info.value.payload == "division by zero"
    assert node.kit.checked_div.result(1, 0) == kitchen.kit.checked_div.result(1, 0) == wasmlab.Err("division by zero")


def test_an_answer_larger_than_the_shims_stdout_buffer_arrives_whole(node):
    # answers travel through the shim's stdout stream (after the guest's output), a few KiB at a time
    text = "ab\u00e9\U0001f600" * 60_000
    assert node.kit.echo_string(text) == text
    assert node.add(1, 2) == 3  # and the next answer is still its own


def test_wrong_arguments_are_refused_as_with_wasmtime(kitchen, node):
    with pytest.raises(ArgumentError) as under_node:
        node.kit.echo_u8(256)
    with pytest.raises(ArgumentError) as under_wasmtime:
        kitchen.kit.echo_u8(256)
    assert under_node.value.message == under_wasmtime.value.message


def test_resources_stay_with_wasmtime(node):
    with pytest.raises(WasmlabError, match="resources"):
        node.kit.peek(None)


def test_grants_node_cannot_honour_are_refused(kitchen, node, tmp_path):
    kitchen.grants = wasmlab.Grants().with_dir(tmp_path, "/data", read_only=True)
    try:
        with pytest.raises(WasmlabError, match="read-only"):
            node.add(1, 2)
    finally:
        kitchen.grants = wasmlab.Grants()
    kitchen.limits = wasmlab.Limits(fuel=10**6)
    try:
        with pytest.raises(WasmlabError, match="fuel"):
            node.add(1, 2)
    finally:
        kitchen.limits = wasmlab.Limits()
    assert node.add(1, 2) == 3


def test_js_guest_under_node_prints_and_answers_like_wasmtime(monkeypatch_module, capfd):
    require_node()
    monkeypatch_module.setenv("WASMLAB_TOOLS_DIR", str(shared_tools_dir()))
    greeter = js_greeter()
    people = [{"name": "ada", "languages": ["en"], "age": None}, {"name": "linus", "languages": [], "age": 7}]
    under_node = greeter.engine("node")
    try:
        assert under_node.greeter.greet("node") == "Hello from JavaScript, node!"
        capfd.readouterr()
        assert under_node.greeter.describe(people) == greeter.greeter.describe(people)
        # console.log under Node and under wasmtime, both in the cell
        assert capfd.readouterr().out.count("JavaScript describes 2 people") == 2
    finally:
        under_node.close()


def test_transpile_gives_an_es_module_node_can_import(kitchen, tmp_path):
    from wasmlab.toolchain.javascript import node_command, node_wasm_flags, npm_tools

    module = kitchen.transpile(tmp_path / "out")
    assert module.name == "kitchen.js" and module.is_file()
    assert list((tmp_path / "out").glob("*.core*.wasm"))
    # a user's own script: the shim resolves from the tool folder's node_modules
    (tmp_path / "out" / "node_modules").symlink_to(npm_tools() / "node_modules")
    script = tmp_path / "out" / "use.mjs"
    script.write_text("import { add, kit } from './kitchen.js';\n"
                      "console.log(add(40, 2), kit.echoString('es'));\n")
    done = subprocess.run([node_command(), *node_wasm_flags(), str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["42", "es"]


def test_cli_transpile_and_call_under_node(kitchen, tmp_path):
    done = run_cli("transpile", str(kitchen.wasm_path), "-o", str(tmp_path / "es"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "es" / "component.js").is_file()
    printed = {}
    for engine in ("wasmtime", "node"):
        called = run_cli("call", str(kitchen.wasm_path), "--engine", engine,
                         'kit#echo-person({name: "a", age: 1, tags: [], home: some({x: 1, y: 2}), '
                         'color: red, perms: {write}})')
        assert called.returncode == 0, called.stderr
        printed[engine] = called.stdout.strip()
    assert printed["node"] == printed["wasmtime"]
    assert printed["node"].startswith('{name: "a", age: 1')


PROBE_WIT = """package demo:probe;

world probe {
  export env: func(name: string) -> option<string>;
  export args: func() -> list<string>;
  export read-file: func(path: string) -> result<string, string>;
  export write-file: func(path: string, text: string) -> result<_, string>;
}
"""

PROBE_PY = """\
import os
import sys

from componentize_py_types import Err


class WitWorld:
    def env(self, name):
        return os.environ.get(name)

    def args(self):
        return sys.argv

    def read_file(self, path):
        try:
            with open(path) as f:
                return f.read()
        except OSError as e:
            raise Err(f"{type(e).__name__}: {e.strerror}")

    def write_file(self, path, text):
        try:
            with open(path, "w") as f:
                f.write(text)
        except OSError as e:
            raise Err(f"{type(e).__name__}: {e.strerror}")
"""


def test_a_wasi_program_under_both_engines_and_where_they_differ(kitchen, tmp_path):
    wasmlab.define_wit(PROBE_WIT, origin="probe.wit")
    probe = wasmlab.build(world="demo:probe/probe", python=PROBE_PY, name="probe", progress=False)
    (tmp_path / "hello.txt").write_text("hi from the host")
    probe.grants = wasmlab.Grants().with_env(GREETING="hej").with_dir(tmp_path, "/data").with_args("one", "two")
    node = probe.engine("node")
    try:
        for engine in (probe, node):  # the same environment, arguments, granted directory and refusals
            assert engine.env("GREETING") == "hej" and engine.env("HOME") is None
            assert engine.args() == ["one", "two"]
            assert engine.read_file.result("/data/hello.txt") == wasmlab.Ok("hi from the host")
            assert engine.read_file.result("/etc/hostname").value.startswith("FileNotFoundError")
        # where they differ: wasmtime creates a file in the granted directory; preview2-shim under Node cannot
        assert probe.write_file.result("/data/out.txt", "x") == wasmlab.Ok(None)
        assert (tmp_path / "out.txt").read_text() == "x"
        assert node.write_file.result("/data/out2.txt", "x") == wasmlab.Err("OSError: Not supported")
        assert not (tmp_path / "out2.txt").exists()
    finally:
        node.close()


def test_transpile_to_a_bad_folder_is_a_one_line_error(kitchen, tmp_path):
    from wasmlab.errors import ArgumentError, FileError

    for bad in (3, ""):
        with pytest.raises(ArgumentError, match="must be a folder's path"):
            kitchen.transpile(bad)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FileError, match="a-file: File exists"):
        kitchen.transpile(tmp_path / "a-file" / "out")
