import pytest

import wasmlab
from wasmlab.errors import WitError
from wasmlab.toolchain.wit import WitRegistry


def test_define_registers_packages_and_canonical_text():
    reg = WitRegistry()
    defn = reg.define("package demo:one@1.0.0;\ninterface greet { hello: func(name: string) -> string; }\n"
                      "world w { export greet; }")
    assert [p.name for p in defn.packages] == ["demo:one@1.0.0"]
    assert "hello: func(name: string) -> string;" in defn.text
    assert reg.find("demo:one").name == "demo:one@1.0.0"
    assert [w.name for w in defn.worlds] == ["w"]


def test_redefining_replaces_the_package():
    reg = WitRegistry()
    reg.define("package demo:two;\ninterface a { f: func(); }")
    reg.define("package demo:two;\ninterface a { g: func(x: u8); }")
    assert "g: func(x: u8);" in reg.find("demo:two").text
    assert "f: func()" not in reg.find("demo:two").text
    assert len([p for p in reg if p.base_name == "demo:two"]) == 1


def test_several_packages_in_one_cell_and_use_across_cells():
    reg = WitRegistry()
    defn = reg.define("package a:types { interface t { record point { x: s32, y: s32 } } }\n"
                      "package a:geo { interface g { use a:types/t.{point}; norm: func(p: point) -> f64; } }")
    assert sorted(p.name for p in defn.packages) == ["a:geo", "a:types"]
    later = reg.define("package a:app;\nworld app { import a:geo/g; }")
    assert later.worlds[0].imports["a:geo/g"].interface.functions["norm"].params[0][1].wit() == "point"


def test_build_fingerprint_follows_what_a_package_refers_to_not_every_cell():
    reg = WitRegistry()
    reg.define("package fp:types { interface t { record point { x: s32 } } }\n"
               "package fp:geo { interface g { use fp:types/t.{point}; f: func(p: point); } }")
    reg.define("package fp:app;\nworld app { import fp:geo/g; }")
    before = reg.fingerprint("fp:app")
    reg.define("package fp:unrelated;\ninterface u { f: func(); }")
    assert reg.fingerprint("fp:app") == before  # an unrelated cell keeps builds cached
    reg.define("package fp:types { interface t { record point { x: s32, y: s32 } } }")
    assert reg.fingerprint("fp:app") != before  # a change two packages down rebuilds


def test_wasi_and_async_types_resolve_from_shipped_definitions():
    reg = WitRegistry()
    defn = reg.define(
        "package demo:io;\n"
        "interface pipe { load: async func(path: string) -> stream<u8>; done: func() -> future<string>; }\n"
        "world w {\n  import wasi:cli/environment@0.2.6;\n  import wasi:http/types@0.3.0;\n  export pipe;\n}")
    world = defn.worlds[0]
    assert "wasi:cli/environment@0.2.6" in world.imports
    load = world.exports["demo:io/pipe"].interface.functions["load"]
    assert load.is_async and load.result.wit() == "stream<u8>"


def test_error_points_at_line_and_column_with_caret():
    reg = WitRegistry()
    source = "package a:b;\n\ninterface x {\n  f: func(a: strin);\n}\n"
    with pytest.raises(WitError) as info:
        reg.define(source, origin="cell [3]")
    err = info.value
    assert (err.location.line, err.location.column) == (4, 14)
    rendered = err.render().splitlines()
    assert rendered[0] == "WIT error: name `strin` does not exist"
    assert rendered[1] == "  --> cell [3]:4:14"
    caret_line = rendered[-1]
    assert caret_line.index("^") == rendered[-2].index("strin")
    assert "Traceback" not in err.render()


def test_unknown_package_names_the_fix():
    with pytest.raises(WitError) as info:
        WitRegistry().define("package a:b;\nworld w {\n  import wasi:nope/x@0.2.6;\n}\n")
    assert "wasi:nope@0.2.6" in info.value.message
    assert info.value.location.line == 3
    assert "0.2.6" in info.value.hint


@pytest.mark.parametrize("source", ["", "   \n", "package ;", "world w {", "package a:b; world w { export nope; }"])
def test_malformed_wit_is_a_wit_error(source):
    with pytest.raises(WitError):
        WitRegistry().define(source)


def test_display_has_text_and_a_world_picture():
    defn = WitRegistry().define("package demo:pic;\ninterface i { f: func(); }\n"
                                "world w { import wasi:clocks/wall-clock@0.2.6; export i; }")
    bundle = defn._repr_mimebundle_()
    assert bundle["text/plain"].startswith("package demo:pic;")
    from display_helpers import pictures_in

    [picture] = pictures_in(bundle["text/html"])
    assert "WASI clocks" in picture and "<svg" not in bundle["text/html"]  # untrusted notebooks drop inline SVG


def test_session_define_is_the_public_api():
    defn = wasmlab.define_wit("package demo:public;\nworld w { export f: func(); }")
    assert "demo:public" in wasmlab.registry
    assert defn.worlds[0].exports["f"].function.signature() == "func()"


def test_find_world_errors_list_the_known_worlds():
    reg = WitRegistry()
    reg.define("package demo:fw;\nworld alpha {}\nworld beta {}")
    assert reg.find_world("alpha")[1] == "alpha"
    assert reg.find_world("demo:fw/beta")[1] == "beta"
    with pytest.raises(WitError) as info:
        reg.find_world("gamma")
    assert "alpha" in info.value.hint and "beta" in info.value.hint


def test_a_failed_render_does_not_break_later_pictures():
    from wasmlab.notebook.pictures import Graph, RenderError, render_svg, render_svg_in_wasm

    with pytest.raises(RenderError):
        render_svg("digraph { this is not dot")
    assert "<svg" in Graph("digraph { a -> b }").svg()
    with pytest.raises(RenderError):  # Graphviz in WebAssembly (no dot installed): the failure traps inside it
        render_svg_in_wasm("digraph { this is not dot either")
    assert "<title>a&#45;&gt;b</title>" in render_svg_in_wasm("digraph { a -> b }")


def test_errors_in_a_deps_folder_name_the_users_file(tmp_path):
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "z.wit").write_text("package foo:baz;\ninterface z { type t = nope; }\n")
    with pytest.raises(WitError) as info:
        WitRegistry().define("package a:b;\ninterface x { use foo:baz/z.{t}; }", origin="cell [2]", deps_dir=deps)
    rendered = info.value.render()
    assert info.value.location.origin == str(deps / "z.wit") and info.value.location.line == 2
    assert "wasmlab-" not in rendered and "user-z" not in rendered and "/tmp/wasmlab" not in rendered


def test_a_missing_deps_folder_is_a_wit_error(tmp_path):
    for missing, what in [(tmp_path / "nowhere", "does not exist"), (tmp_path / "f.wit", "is not a folder")]:
        if what == "is not a folder":
            missing.write_text("package a:c;\n")
        with pytest.raises(WitError, match=f"the deps folder {missing} {what}"):
            WitRegistry().define("package a:b;\ninterface x {}", deps_dir=missing)


def test_redefining_a_wasi_package_points_at_the_cell_not_at_scratch_files():
    with pytest.raises(WitError) as info:
        WitRegistry().define("package wasi:io@0.2.0;\ninterface x {}", origin="cell [7]")
    assert info.value.message == "package `wasi:io@0.2.0` is defined twice"
    assert info.value.location.origin == "cell [7]" and info.value.location.line == 1
    assert "wasmlab-wit-" not in info.value.render()
