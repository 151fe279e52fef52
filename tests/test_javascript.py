"""JavaScript guests: componentize-js builds from the pinned npm tools, called and composed like any component."""

from __future__ import annotations

import pytest

import wasmlab
from wasmlab.errors import BuildError, ToolError

from helpers import ipython_shell
from languages import (
    GREETER_JS,
    composed,
    greet_wit,
    js_greeter,
    py_greeter,
    require_node,
    shared_tools_dir,
    wat_greeter,
)

pytestmark = pytest.mark.slow

ADA = {"name": "ada", "languages": ["en", "fr"], "age": None}
LINUS = {"name": "linus", "languages": [], "age": 7}


@pytest.fixture(scope="module", autouse=True)
def node_tools(monkeypatch_module):
    require_node()
    monkeypatch_module.setenv("WASMLAB_TOOLS_DIR", str(shared_tools_dir()))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_js_component_builds_and_calls_with_records_lists_and_options(capfd):
    greeter = js_greeter()
    assert greeter.greeter.greet("Wasm") == "Hello from JavaScript, Wasm!"
    capfd.readouterr()
    assert greeter.greeter.describe([ADA, LINUS]) == ["ada speaks en, fr", "linus speaks nothing at 7"]
    assert "JavaScript describes 2 people" in capfd.readouterr().out  # console.log streams into the cell


def test_js_build_leaves_out_fetch_unless_asked():
    imports = set(js_greeter().imports)
    assert not any(name.startswith("wasi:http/") for name in imports), imports
    assert any(name.startswith("wasi:cli/stdout") for name in imports)  # stdio stays: console.log


def test_unchanged_js_build_comes_from_the_cache():
    js_greeter()
    again = wasmlab.build(world="demo:greet/plugin", js=GREETER_JS, name="again", progress=False)
    assert again.cached
    assert again.greeter.greet("cache") == "Hello from JavaScript, cache!"


def test_js_syntax_error_points_at_the_line_and_column():
    greet_wit()
    source = "export const greeter = {\n  greet(name) {\n    return `Hi ${name}` +;\n  },\n};\n"
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="demo:greet/plugin", js=source, origin="greeter.js", progress=False)
    err = info.value
    assert "SyntaxError" in err.message
    assert (err.location.origin, err.location.line) == ("greeter.js", 3)
    assert err.location.source_line().strip() == "return `Hi ${name}` +;"


def test_js_missing_export_names_what_the_world_needs():
    greet_wit()
    with pytest.raises(BuildError) as info:
        wasmlab.build(world="demo:greet/plugin", js="export const greetr = { greet(n) { return n; } };\n",
                      origin="greeter.js", progress=False)
    assert "greeter" in info.value.message
    assert "export const greeter" in info.value.hint


def test_unknown_feature_is_refused_before_building():
    greet_wit()
    with pytest.raises(BuildError, match="unknown componentize-js feature 'sockets'") as info:
        wasmlab.build(world="demo:greet/plugin", js=GREETER_JS, js_features=["sockets"], progress=False)
    assert "http" in info.value.hint


def test_without_node_the_error_says_what_to_install(monkeypatch, tmp_path):
    from wasmlab.toolchain import javascript

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("WASMLAB_NODE", raising=False)
    monkeypatch.setenv("WASMLAB_TOOLS_DIR", str(tmp_path / "tools"))  # nothing installed there
    javascript.node_command.cache_clear()
    try:
        with pytest.raises(ToolError) as info:
            wasmlab.build(world="demo:greet/plugin", js=GREETER_JS + "// changed\n", progress=False)
    finally:
        javascript.node_command.cache_clear()
    assert "Node.js" in info.value.message
    assert "apt-get install nodejs npm" in info.value.hint


def test_python_app_composed_with_js_greeter_via_wac():
    app = composed(js_greeter())
    assert app.welcome(["ada", "linus"]) == "Hello from JavaScript, ada! Hello from JavaScript, linus!"
    # records, lists, strings and options cross the language boundary both ways
    assert app.introduce([ADA, LINUS]) == ["ada speaks en, fr", "linus speaks nothing at 7"]


def test_the_same_app_works_with_the_python_greeter_plugged_in():
    app = composed(py_greeter())
    assert app.welcome(["ada"]) == "Hello from Python, ada!"
    assert app.introduce([ADA, LINUS]) == ["ada speaks en, fr", "linus speaks nothing at 7"]


def test_the_same_app_works_with_the_wat_greeter_plugged_in():
    app = composed(wat_greeter())
    assert app.welcome(["ada", "linus"]) == "Hello from WAT, ada! Hello from WAT, linus!"
    assert app.introduce([ADA, LINUS]) == ["ada", "linus"]  # the WAT greeter only names them
    assert app.greet_many("ada", 3) == 3 * len("Hello from WAT, ada!")


def test_cli_builds_javascript(tmp_path):
    from languages import GREET_WIT, run_cli

    js_greeter()  # the same inputs: the command finds the build in the cache
    (tmp_path / "greet.wit").write_text(GREET_WIT)
    (tmp_path / "greeter.js").write_text(GREETER_JS)
    done = run_cli("build", "--wit", "greet.wit", "--world", "plugin", "--js", "greeter.js", "-o", "g.wasm",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    called = run_cli("call", "g.wasm", 'greeter#greet("shell")', cwd=tmp_path)
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip() == '"Hello from JavaScript, shell!"'


def test_magic_builds_javascript():
    from languages import GREET_WIT

    shell = ipython_shell()
    assert shell.run_cell("%%wit\n" + GREET_WIT).success
    result = shell.run_cell("%%component jsgreeter --world plugin --js\n" + GREETER_JS)
    assert result.success, result.error_in_exec
    assert shell.user_ns["jsgreeter"].greeter.greet("cell") == "Hello from JavaScript, cell!"
    broken = shell.run_cell("%%component broken --world plugin --js\nexport const greeter = {\n"
                            "  greet(name) { return name +; },\n};\n")
    assert isinstance(broken.error_in_exec, BuildError)
    assert broken.error_in_exec.location.line == 3  # line 1 is the magic line


def test_fetch_feature_imports_wasi_http_and_the_error_names_it():
    from wasmlab.errors import LinkError

    greet_wit()
    fetching = wasmlab.build(world="demo:greet/plugin", js=GREETER_JS, js_features=["http"], name="fetching",
                             progress=False)
    assert any(name.startswith("wasi:http/outgoing-handler") for name in fetching.imports)
    with pytest.raises(LinkError) as info:  # fetch is outgoing HTTP: refused without the network
        fetching.greeter.greet("x")
    assert "Grants().with_network()" in info.value.hint and "--js-feature http" in info.value.hint
    assert "WASI 0.3" not in info.value.hint
