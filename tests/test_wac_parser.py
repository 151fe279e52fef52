"""The WAC lexer and parser: every construct, its spans, and located syntax errors."""

from __future__ import annotations

import pytest

from wasmlab.errors import WacError
from wasmlab.wac import _ast as ast
from wasmlab.wac import parse, resolve
from wasmlab.wac._lexer import LexError, Tok, tokenize
from wasmlab.wac._parser import is_valid_semver


def text_of(source: str, span: ast.Span) -> str:
    return source[span.offset:span.end]


def kinds(source: str) -> list:
    return [t.kind for t in tokenize(source)]


def parse_error(source: str) -> WacError:
    with pytest.raises(WacError) as info:
        parse(source, origin="cell")
    return info.value


# ----------------------------------------------------------------------------- lexer

def test_keywords_win_ties_and_longer_identifiers_do_not():
    assert kinds("import imports u32 u32x %import") == [Tok.IMPORT, Tok.IDENT, Tok.U32, Tok.IDENT, Tok.IDENT]


def test_package_names_and_paths_with_versions():
    source = "foo:bar foo:bar@1.2.3-rc.1+b wasi:io/streams@0.2.0 a:b:c/d/e"
    tokens = tokenize(source)
    assert [t.kind for t in tokens] == [Tok.PACKAGE_NAME, Tok.PACKAGE_NAME, Tok.PACKAGE_PATH, Tok.PACKAGE_PATH]
    assert [text_of(source, t.span) for t in tokens] == source.split()


def test_symbols_comments_and_nested_block_comments_are_skipped():
    source = "/* a /* nested */ comment */ ... . -> // line\n;"
    assert kinds(source) == [Tok.ELLIPSIS, Tok.DOT, Tok.ARROW, Tok.SEMICOLON]


def test_lexical_errors_are_tokens_in_place():
    assert kinds('"open') == [LexError.UNTERMINATED_STRING, Tok.IDENT]
    assert kinds("/* never closed") == [LexError.UNTERMINATED_COMMENT]
    assert kinds("a $ b") == [Tok.IDENT, LexError.UNEXPECTED_TOKEN, Tok.IDENT]


@pytest.mark.parametrize("version,valid", [
    ("1.0.0", True), ("0.2.0-rc.1", True), ("1.2.3+build.01", True), ("1", False), ("1.0", False),
    ("01.0.0", False), ("1.0.0-01", False), ("1.0.0-", False),
])
def test_semantic_versions_as_the_semver_crate(version, valid):
    assert is_valid_semver(version) is valid


# ----------------------------------------------------------------------------- statements and spans

def test_package_directive_with_targets_and_docs():
    source = "/// the package\npackage ex:comp@1.0.0 targets wasi:http/proxy@0.2.0;\n"
    doc = parse(source)
    assert [d.comment for d in doc.docs] == ["the package"]
    assert doc.directive.package.name == "ex:comp" and doc.directive.package.version == "1.0.0"
    assert text_of(source, doc.directive.package.span) == "ex:comp@1.0.0"
    targets = doc.directive.targets
    assert (targets.name, targets.segments, targets.version) == ("wasi:http", "proxy", "0.2.0")
    assert text_of(source, targets.package_name_span) == "wasi:http"
    assert [(s, text_of(source, span)) for s, span in targets.segment_spans()] == [("proxy", "proxy")]


def test_imports_of_every_kind():
    source = """package a:b;
import f: func(x: u32) -> string;
import i as "my-name": interface { g: func(); };
import s: wasi:io/streams;
import t as other: t2;
"""
    doc = parse(source)
    f, i, s, t = doc.statements
    assert isinstance(f.ty, ast.FuncType) and f.ty.params[0].id.string == "x"
    assert isinstance(f.ty.results, ast.PrimitiveType) and f.ty.results.name == "string"
    assert isinstance(i.name, ast.String) and i.name.value == "my-name"
    assert isinstance(i.ty, ast.InlineInterface) and isinstance(i.ty.items[0], ast.InterfaceExport)
    assert isinstance(s.ty, ast.PackagePath) and s.ty.string == "wasi:io/streams"
    assert isinstance(t.name, ast.Ident) and t.name.string == "other" and t.ty.string == "t2"
    assert text_of(source, t.id.span) == "t"


def test_let_with_every_argument_form_and_expression_spans():
    source = 'package a:b;\nlet x = new foo:bar@1.0.0 { a, b: c.d, "q": (e)["k"], ...f, ... };\n'
    let = parse(source).statements[0]
    new = let.expr.primary
    assert isinstance(new, ast.NewExpr) and new.package.string == "foo:bar@1.0.0"
    assert text_of(source, new.span) == source[source.index("new"):source.index("};") + 1]
    inferred, named, quoted, spread, fill = new.arguments
    assert isinstance(inferred, ast.InferredArgument) and inferred.id.string == "a"
    assert isinstance(named, ast.NamedArgument) and text_of(source, named.expr.span) == "c.d"
    assert isinstance(quoted.name, ast.String) and text_of(source, quoted.expr.span) == '(e)["k"]'
    assert isinstance(quoted.expr.primary, ast.NestedExpr)
    assert isinstance(quoted.expr.postfix[0], ast.NamedAccessExpr) and quoted.expr.postfix[0].string.value == "k"
    assert isinstance(spread, ast.SpreadArgument) and spread.id.string == "f"
    assert isinstance(fill, ast.FillArgument) and text_of(source, fill.span) == "..."


def test_export_forms():
    source = 'package a:b;\nexport x;\nexport x.y as "z";\nexport x...;\nexport %x as w;\n'
    plain, renamed, spread, escaped = parse(source).statements
    assert plain.options is None
    assert isinstance(renamed.options, ast.ExportRename) and renamed.options.name.value == "z"
    assert isinstance(renamed.expr.postfix[0], ast.AccessExpr) and renamed.expr.postfix[0].id.string == "y"
    assert isinstance(spread.options, ast.ExportSpread) and text_of(source, spread.options.span) == "..."
    assert escaped.expr.primary.string == "x" and text_of(source, escaped.expr.primary.span) == "%x"


def test_type_declarations_and_value_types():
    source = """package a:b;
record r { x: list<u8>, y: option<tuple<s32, f64>>, }
variant v { none, some(result<string, _>) }
enum e { a, b }
flags f { read, write }
type t = result;
type g = func(a: borrow<res>) -> result<_, e>;
"""
    r, v, e, f, t, g = parse(source).statements
    assert [fd.id.string for fd in r.fields] == ["x", "y"]
    assert isinstance(r.fields[0].ty, ast.ListType) and text_of(source, r.fields[0].ty.span) == "list<u8>"
    assert isinstance(r.fields[1].ty.element, ast.TupleType)
    assert v.cases[0].ty is None and isinstance(v.cases[1].ty, ast.ResultType)
    assert v.cases[1].ty.err is None and text_of(source, v.cases[1].ty.span) == "result<string, _>"
    assert [c.id.string for c in e.cases] == ["a", "b"] and [x.id.string for x in f.flags] == ["read", "write"]
    assert isinstance(t.kind, ast.ResultType) and t.kind.ok is None
    assert isinstance(g.kind, ast.FuncType) and isinstance(g.kind.params[0].ty, ast.BorrowType)


def test_interfaces_resources_and_worlds():
    source = """package a:b;
interface i {
  use wasi:io/streams@0.2.0.{input-stream as is, output-stream};
  /// a resource
  resource r {
    constructor(x: u32);
    get: func() -> u32;
    make: static func() -> r;
  }
  f: func(x: r);
  h: f;
}
world w {
  use i.{r};
  import i;
  import x: func();
  import y: interface { z: func(); };
  export wasi:cli/run@0.2.0;
  include other with { a as b, c as d };
  type alias = u32;
}
"""
    interface, world = parse(source).statements
    use, resource, f, h = interface.items
    assert isinstance(use.path, ast.PackagePath) and [(u.id.string, u.as_id and u.as_id.string)
                                                      for u in use.items] == [("input-stream", "is"),
                                                                              ("output-stream", None)]
    assert resource.docs[0].comment == "a resource"
    ctor, get, make = resource.methods
    assert isinstance(ctor, ast.Constructor) and text_of(source, ctor.span) == "constructor"
    assert not get.is_static and make.is_static
    assert isinstance(h.ty, ast.Ident)
    use, imp, named, inline, exp, include, alias = world.items
    assert isinstance(use.path, ast.Ident) and isinstance(imp.path, ast.Ident)
    assert isinstance(named.path, ast.NamedWorldItem) and isinstance(named.path.ty, ast.FuncType)
    assert isinstance(inline.path.ty, ast.InlineInterface)
    assert isinstance(exp, ast.WorldExport) and exp.path.string == "wasi:cli/run@0.2.0"
    assert [(i.from_.string, i.to.string) for i in include.with_] == [("a", "b"), ("c", "d")]
    assert isinstance(alias, ast.TypeAlias)


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("source,message,line,col", [
    ("import f: func();", "expected `package` keyword, found `import` keyword", 1, 1),
    ("package a:b;\nlet x = new a:b {", "expected either `}`, `...`, identifier, or string literal, found end of input",
     2, 16),  # at the very end the reference points one character back
    ("package a:b;\nlet = 1;", "expected identifier, found `=`", 2, 5),
    ("package a:b;\nexport x as 1;", "unexpected token was encountered", 2, 13),
    ("package a:b;\nimport x: a:b/c@1.0;", "`1.0` is not a valid semantic version", 2, 17),
    ("package a:b;\nrecord r {}", "record must contain at least one field", 2, 11),
    ("package a:b;\ntype t = tuple<>;", "expected either `u8` keyword, `s8` keyword, `u16` keyword, `s16` keyword, "
     "`u32` keyword, `s32` keyword, `u64` keyword, `s64` keyword, `f32` keyword, `f64` keyword, or more..., "
     "found `>`", 2, 16),
    ('package a:b;\nlet x = "open', "an unterminated string was encountered", 2, 9),
    ("package a:b;\n\x07", "disallowed control code '\\u{7}'", 2, 1),
    ("package a:b;\nlet x = new a:b { \"s\" };", "expected identifier, found string literal", 2, 19),
])
def test_syntax_errors_are_located(source, message, line, col):
    err = parse_error(source)
    assert err.message == message
    assert (err.location.origin, err.location.line, err.location.column) == ("cell", line, col)
    assert err.location.text == source


def test_error_renders_the_line_with_a_caret():
    err = parse_error("package a:b;\nlet x = new a:b { , };\n")
    rendered = err.render()
    assert "cell:2:19" in rendered
    assert "2 | let x = new a:b { , };" in rendered
    assert rendered.rstrip().endswith(" " * 18 + "^")


def test_absurd_nesting_is_an_error_not_a_crash():
    for opening in ("list<", "option<", "tuple<", "result<"):
        err = parse_error("package a:b;\ntype t = " + opening * 5000 + "u8" + ">" * 5000 + ";")
        assert err.message == "types and expressions may nest at most 100 levels deep"
        # at the 101st opening, whatever the stack depth
        assert (err.location.line, err.location.column) == (2, 10 + 100 * len(opening))
    err = parse_error("package a:b;\nlet x = " + "(" * 5000 + "y" + ")" * 5000 + ";")
    assert (err.location.line, err.location.column) == (2, 109)
    err = parse_error("package a:b;\nlet x = " + "new a:c { b: " * 5000 + "y" + " }" * 5000 + ";")
    assert (err.location.line, err.location.column) == (2, 9 + 100 * len("new a:c { b: "))


def test_nesting_up_to_the_limit_parses_prints_resolves_and_encodes():
    import json

    from wasmlab.toolchain.tools import wasm_tools
    from wasmlab.wac import encode
    from wasmlab.wac._ast import to_reference_json

    deep = "list<" * 99 + "u8" + ">" * 99
    source = f"package a:b;\ntype t = {deep};\nrecord r {{ f: {deep} }}\nlet x = {'(' * 99}y{')' * 99};\n"
    assert json.dumps(to_reference_json(parse(source))).count('"list"') >= 198
    # the validator's own limit counts the levels a function and an interface add
    deep = "option<" * 90 + "u8" + ">" * 90
    resolution = resolve(f"package a:b;\ninterface i {{ f: func(x: {deep}) -> {deep}; }}\nimport x: i;\nexport x;\n")
    assert 'label = "import \\"x\\""' in resolution.to_dot()
    assert wasm_tools("print", input=encode(resolution)).text.count("option") >= 90


def test_a_type_too_deep_for_the_validator_is_located_at_its_deepest_point():
    from wasmlab.errors import WacError
    from wasmlab.wac import encode

    deep = "option<" * 97 + "u8" + ">" * 97  # the parser takes it; the validator's limit counts the interface too
    source = f"package a:b;\ninterface i {{\n  f: func(x: {deep});\n}}\nimport x: i;\nexport x;\n"
    with pytest.raises(WacError) as info:
        encode(resolve(source))
    assert "type nesting is too deep" in str(info.value)
    assert (info.value.location.line, info.value.location.column) == (3, len("  f: func(x: ") + 97 * 7 + 1)
    assert "nest at most" in info.value.hint


def test_versions_beyond_pythons_int_string_limit_are_located_errors():
    huge = "9" * 5000
    for source, column in ((f"package a:b@1.0.{huge};", 13), (f"package a:b;\nlet x = new a:c@1.{huge}.0 {{}};", 17)):
        err = parse_error(source)
        assert err.message.endswith("is not a valid semantic version") and len(err.message) < 120
        assert err.location.column == column


def test_non_ascii_text_counts_in_bytes_as_the_reference_does():
    source = 'package a:b;\n/// café\nexport x as "é" y;'
    err = parse_error(source)
    assert err.message == "expected `;`, found identifier"
    assert (err.location.line, err.location.column) == (3, 18)  # 16 characters before `y`, 17 bytes
    from wasmlab.wac._ast import to_reference_json

    doc = parse('package a:b;\n/// café\nexport x;')
    tree = to_reference_json(doc)
    assert tree["statements"][0]["Export"]["docs"][0]["span"] == {"offset": 13, "length": 9}
    assert tree["statements"][0]["Export"]["expr"]["span"] == {"offset": 30, "length": 1}


def test_columns_count_bytes_like_the_reference_but_the_caret_sits_under_the_character():
    with pytest.raises(WacError) as info:
        parse('package a:b;\n/* é */ let x = new x:y { ~ };', origin="t.wac")
    location = info.value.location
    assert (location.line, location.column) == (2, 28)  # é is two bytes
    source_line, caret_line = info.value.render().splitlines()[-2:]
    assert source_line[caret_line.index("^")] == "~"
