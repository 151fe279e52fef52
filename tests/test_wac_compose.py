"""Composing real components: wasmlab.compose, %%wac, wasmlab.plug, called from Python."""

from __future__ import annotations

import pytest

import wasmlab
from wasmlab.errors import LinkError, WacError

from guests import calculator_wat
from helpers import ipython_shell

CALC_WIT = """package wactest:calc;

interface add {
  add: func(a: s32, b: s32) -> s32;
}

world adder {
  export add;
}

world calculator {
  import add;
  export calculate: func(a: s32, b: s32) -> s32;
}
"""

HTTP_WIT = """package wactest:chain;

interface handler {
  handle: func(request: string) -> string;
}

world origin {
  export handler;
}

world middleware {
  import handler;
  export handler;
}
"""

ADDER_PY = """
class Add:
    def add(self, a, b):
        return a + b
"""

CALCULATOR_PY = """
from wit_world.imports import add


class WitWorld:
    def calculate(self, a, b):
        return add.add(a, b) * 2
"""

ORIGIN_PY = """
import os


class Handler:
    def handle(self, request):
        return os.environ.get("ORIGIN_NAME", "origin") + " saw " + request
"""

MIDDLEWARE_PY = """
from wit_world.imports import handler


class Handler:
    def handle(self, request):
        return "<" + handler.handle(request.upper()) + ">"
"""

ADDER_WAT, CALCULATOR_WAT = calculator_wat("wactest")

CALC_WAC = """package demo:app;

let adder = new demo:adder { ... };
let calc = new demo:calculator { add: adder.add, ... };

export calc.calculate;
"""

CHAIN_WAC = """package demo:chained;

let origin = new demo:origin { ... };
let inner = new demo:middleware { handler: origin.handler, ... };
let outer = new demo:middleware { handler: inner.handler, ... };

export outer.handler;
"""


@pytest.fixture(scope="session")
def calc_wit():
    return wasmlab.define_wit(CALC_WIT, origin="calc.wit")


@pytest.fixture(scope="session")
def chain_wit():
    return wasmlab.define_wit(HTTP_WIT, origin="chain.wit")


@pytest.fixture(scope="session")
def adder(calc_wit):
    return wasmlab.build(world="wactest:calc/adder", python=ADDER_PY, name="adder", progress=False)


@pytest.fixture(scope="session")
def calculator(calc_wit):
    return wasmlab.build(world="wactest:calc/calculator", python=CALCULATOR_PY, name="calculator", progress=False)


@pytest.fixture(scope="session")
def origin(chain_wit):
    return wasmlab.build(world="wactest:chain/origin", python=ORIGIN_PY, name="origin", progress=False)


@pytest.fixture(scope="session")
def middleware(chain_wit):
    return wasmlab.build(world="wactest:chain/middleware", python=MIDDLEWARE_PY, name="middleware", progress=False)


def _wat_component(text: str, name: str):
    from wasmlab.wac._package import wat_to_bytes

    return wasmlab.load(wat_to_bytes(text), name=name)


@pytest.fixture(scope="module")
def wat_namespace():
    return {"adder": _wat_component(ADDER_WAT, "adder"),
            "calculator": _wat_component(CALCULATOR_WAT, "calculator")}


# --- WAT only (fast) ------------------------------------------------------------------------------

def test_wat_components_compose_and_run(wat_namespace):
    app = wasmlab.compose(CALC_WAC, name="app", namespace=wat_namespace)
    assert isinstance(app, wasmlab.Component)
    assert app.calculate(20, 1) == 42
    text = app.composition.text()
    assert "adder = new demo:adder" in text
    assert "wactest:calc/add <- adder" in text
    assert "export calculate <- calc" in text


def test_packages_can_be_given_explicitly(wat_namespace):
    app = wasmlab.compose(CALC_WAC, name="app", packages={"demo:adder": wat_namespace["adder"],
                                                           "demo:calculator": wat_namespace["calculator"]})
    assert app.calculate(2, 3) == 10


def test_composition_picture_shows_instances_wires_and_exports(wat_namespace):
    app = wasmlab.compose(CALC_WAC, name="app", namespace=wat_namespace)
    dot = app.composition.picture().source
    assert "new demo:calculator" in dot and "new demo:adder" in dot
    assert "wactest:calc/add" in dot  # the wire from adder's export to calc's import
    assert "exports of app" in dot
    bundle = app.composition._repr_mimebundle_()
    assert bundle["text/plain"] == app.composition.text()


def test_import_dependencies_imports_the_components(wat_namespace):
    from wasmlab.toolchain.tools import wasm_tools

    result = wasmlab.compose(CALC_WAC, name="app", namespace=wat_namespace, import_dependencies=True)
    assert isinstance(result, wasmlab.Component)  # one type, whichever way it was encoded
    printed = wasm_tools("print", input=result.composition.wasm).text
    assert '(import "unlocked-dep=<demo:adder>"' in printed
    assert "(core module" not in printed
    assert "calculate" in result.exports  # its world is there to look at
    with pytest.raises(LinkError, match=r"app imports the components it instantiates \(demo:adder, "
                                        r"demo:calculator\): it cannot run on its own"):
        result.calculate(1, 2)


def test_missing_argument_is_a_located_error(wat_namespace):
    source = "package demo:app;\n\nlet calc = new demo:calculator {};\nexport calc.calculate;\n"
    with pytest.raises(WacError) as info:
        wasmlab.compose(source, name="app", namespace=wat_namespace, origin="app.wac")
    err = info.value
    assert "missing instantiation argument `wactest:calc/add`" in err.message
    assert (err.location.origin, err.location.line, err.location.column) == ("app.wac", 3, 16)


def test_type_mismatch_is_a_located_error(wat_namespace, origin):
    source = ("package demo:app;\n\nlet o = new demo:origin { ... };\n"
              "let calc = new demo:calculator { add: o.handler };\nexport calc.calculate;\n")
    namespace = dict(wat_namespace, origin=origin)
    with pytest.raises(WacError) as info:
        wasmlab.compose(source, name="app", namespace=namespace, origin="app.wac")
    err = info.value
    assert err.message == "mismatched instantiation argument `wactest:calc/add`"
    assert err.location.line == 4
    assert "instance is missing expected function export `add`" in err.detail


def test_unknown_package_is_a_located_error_with_a_hint(wat_namespace):
    source = "package demo:app;\n\nlet x = new demo:nowhere { ... };\n"
    with pytest.raises(WacError) as info:
        wasmlab.compose(source, name="app", namespace=wat_namespace, origin="app.wac")
    err = info.value
    assert err.message == "unknown package `demo:nowhere`"
    assert (err.location.line, err.location.column) == (3, 13)
    assert "--dep" in err.hint


def test_plug_wires_exports_into_matching_imports(wat_namespace):
    plugged = wasmlab.plug(wat_namespace["calculator"], wat_namespace["adder"])
    assert plugged.calculate(1, 2) == 6


def test_plug_without_matching_imports_says_so(wat_namespace):
    with pytest.raises(WacError) as info:
        wasmlab.plug(wat_namespace["adder"], wat_namespace["calculator"])
    assert info.value.message == "the socket component had no matching imports for the plugs that were provided"


def test_plug_files_like_wac_plug(tmp_path):
    from wasmlab.wac import plug_files
    from wasmlab.wac._package import wat_to_bytes

    (tmp_path / "socket.wasm").write_bytes(wat_to_bytes(CALCULATOR_WAT))
    (tmp_path / "adder.wat").write_text(ADDER_WAT)
    data = plug_files(tmp_path / "socket.wasm", [tmp_path / "adder.wat"])
    assert wasmlab.load(data, name="plugged").calculate(3, 4) == 14


NOT_COMPONENTS = {
    "text": (b"hello, not wasm\n", "it is not WebAssembly"),
    "core module": (b"\0asm\x01\0\0\0", "it is a core WebAssembly module"),
    "empty": (b"", "it is empty"),
}


@pytest.mark.parametrize("kind", sorted(NOT_COMPONENTS))
def test_plugging_what_is_not_a_component_says_which_and_why(kind, tmp_path, wat_namespace):
    from wasmlab.wac import plug_files
    from wasmlab.wac._package import wat_to_bytes

    data, why = NOT_COMPONENTS[kind]
    (tmp_path / "socket.wasm").write_bytes(data)
    (tmp_path / "good.wasm").write_bytes(wat_to_bytes(CALCULATOR_WAT))
    (tmp_path / "plug.wasm").write_bytes(data)
    attempts = {"socket.wasm": lambda: plug_files(tmp_path / "socket.wasm", [tmp_path / "good.wasm"]),
                "plug.wasm": lambda: plug_files(tmp_path / "good.wasm", [tmp_path / "plug.wasm"]),
                "component": lambda: wasmlab.plug(wat_namespace["calculator"], data)}
    for shown, attempt in attempts.items():
        with pytest.raises(WacError) as info:
            attempt()
        assert info.value.message.startswith(f"{shown} is not a component: {why}")


def test_plugging_truncated_component_bytes_says_what_is_wrong(tmp_path):
    from wasmlab.wac import plug_files
    from wasmlab.wac._package import wat_to_bytes

    whole = wat_to_bytes(CALCULATOR_WAT)
    (tmp_path / "socket.wasm").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "whole.wasm").write_bytes(whole)
    (tmp_path / "adder.wat").write_text(ADDER_WAT)
    with pytest.raises(WacError) as info:
        plug_files(tmp_path / "socket.wasm", [tmp_path / "adder.wat"])
    assert info.value.message.startswith("socket.wasm is not a component: unexpected end-of-file (at offset 0x")
    assert "\n" not in info.value.message
    (tmp_path / "broken.wat").write_text("(component (export")
    with pytest.raises(WacError) as info:
        plug_files(tmp_path / "whole.wasm", [tmp_path / "broken.wat"])
    assert info.value.message.startswith("broken.wat is not a component: ") and "\n" not in info.value.message


# --- real componentize-py components --------------------------------------------------------------

def test_calculator_composed_with_an_adder(adder, calculator):
    app = wasmlab.compose(CALC_WAC, name="calc_app", namespace={"adder": adder, "calculator": calculator})
    assert app.calculate(3, 4) == 14
    # both components' WASI imports were merged into imports of the composition
    assert any(key.startswith("wasi:") for key in app.imports)


def test_middleware_chained_two_deep_in_front_of_an_origin(origin, middleware):
    app = wasmlab.compose(CHAIN_WAC, name="chain", namespace={"origin": origin, "middleware": middleware})
    assert app.handler.handle("hi") == "<<origin saw HI>>"
    # grants reach the composed instances like any component's: the origin reads the environment
    app.grants = wasmlab.Grants().with_env(ORIGIN_NAME="server")
    assert app.handler.handle("yo") == "<<server saw YO>>"
    text = app.composition.text()
    assert text.count("new demo:middleware") == 2
    assert "host" in text  # WASI imports left to the host


# --- %%wac -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ip():
    return ipython_shell()


def test_wac_cell_binds_the_composition_and_shows_its_graph(ip, wat_namespace):
    ip.user_ns.update(wat_namespace)
    result = ip.run_cell("%%wac app\n" + CALC_WAC)
    assert result.success, result.error_in_exec
    assert ip.user_ns["app"].calculate(1, 1) == 4
    shown = result.result
    assert "new demo:calculator" in shown.text()
    assert "text/html" in shown._repr_mimebundle_()


def test_wac_cell_dep_option_names_a_variable(ip, wat_namespace):
    ip.user_ns["my_adder"] = wat_namespace["adder"]
    ip.user_ns["calculator"] = wat_namespace["calculator"]
    source = CALC_WAC.replace("demo:adder", "demo:summer")
    result = ip.run_cell("%%wac app2 --dep demo:summer=my_adder\n" + source)
    assert result.success, result.error_in_exec
    assert ip.user_ns["app2"].calculate(2, 2) == 8


def test_wac_cell_error_is_located_past_the_magic_line(ip, wat_namespace):
    ip.user_ns.update(wat_namespace)
    result = ip.run_cell("%%wac broken\npackage demo:app;\n\nlet x = new demo:nowhere { ... };\n")
    err = result.error_in_exec
    assert isinstance(err, WacError)
    assert err.location.line == 4  # the %%wac line is line 1 of the cell
    lines = err._render_traceback_()
    assert not any("Traceback" in line for line in lines)


def test_wit_defined_in_the_session_gives_interface_types(calc_wit, wat_namespace):
    from wasmlab.composition import compose_bytes

    source = ("package demo:app;\n\nimport add: wactest:calc/add;\n"
              "let calc = new demo:calculator { add };\nexport calc.calculate;\n")
    # a component variable named like the WIT package does not hide it: types come from WIT
    namespace = dict(wat_namespace, calc=wat_namespace["adder"])
    resolution, data = compose_bytes(source, namespace=namespace)
    graph = resolution.graph
    imported = [graph[n] for n in graph.node_ids() if graph[n].kind == "import"]
    # an interface imported by its package path is imported under its full name
    assert [(n.import_name, sorted(n.item_kind.ty.exports)) for n in imported] == [("wactest:calc/add", ["add"])]
    from wasmlab.toolchain.tools import wasm_tools
    assert '(import "wactest:calc/add" (instance' in wasm_tools("print", input=data).text


def test_wac_cell_import_dependencies_binds_the_encoded_composition(ip, wat_namespace):
    ip.user_ns.update(wat_namespace)
    result = ip.run_cell("%%wac shell_app --import-dependencies\n" + CALC_WAC)
    assert result.success, result.error_in_exec
    app = ip.user_ns["shell_app"]
    assert b"unlocked-dep=<demo:adder>" in app.composition.wasm
    failed = ip.run_cell("shell_app.calculate(1, 2)")  # it imports its components: nothing to run on its own
    assert isinstance(failed.error_in_exec, LinkError)


def test_compose_in_a_notebook_finds_its_components_by_default(ip, wat_namespace):
    ip.user_ns.update(wat_namespace)
    app = wasmlab.compose(CALC_WAC, name="app")  # no namespace=: the notebook's variables
    assert app.calculate(3, 3) == 12
