"""Every WIT value kind through a real component and back, with edge values and refusals.

The kitchen-sink component (a componentize-py guest) echoes each kind; a resource ``counter``
has a constructor, methods and a static function, and functions borrow or take ownership of it.
"""

from __future__ import annotations

import enum
import math
import struct

import pytest

from wasmlab.errors import ArgumentError, GuestError, WasmlabError
from wasmlab.values import Err, Flags, Ok, Resource, Some, Variant

from kitchen_sink import kitchen_sink


@pytest.fixture(scope="module")
def kit():
    return kitchen_sink().kit


@pytest.fixture(scope="module")
def kitchen():
    return kitchen_sink()


INT_EDGES = {
    "s8": (-(1 << 7), (1 << 7) - 1), "s16": (-(1 << 15), (1 << 15) - 1), "s32": (-(1 << 31), (1 << 31) - 1),
    "s64": (-(1 << 63), (1 << 63) - 1), "u8": (0, 255), "u16": (0, 65535), "u32": (0, (1 << 32) - 1),
    "u64": (0, (1 << 64) - 1),
}


@pytest.mark.parametrize("kind", sorted(INT_EDGES))
def test_integers_keep_their_full_range_and_refuse_beyond_it(kit, kind):
    echo = getattr(kit, f"echo_{kind}")
    low, high = INT_EDGES[kind]
    for value in (low, high, 0, 1):
        result = echo(value)
        assert result == value and type(result) is int
    for value in (low - 1, high + 1):
        with pytest.raises(ArgumentError, match=rf"x must be {kind} \(from {low} to {high}\), got {value}"):
            echo(value)
    for wrong in (True, 1.0, "1", None):
        with pytest.raises(ArgumentError, match=f"x must be {kind}"):
            echo(wrong)


def test_bool(kit):
    assert kit.echo_bool(True) is True and kit.echo_bool(False) is False
    with pytest.raises(ArgumentError, match="x must be bool, got 1"):
        kit.echo_bool(1)


def test_floats_keep_nan_infinities_and_negative_zero(kit):
    for echo in (kit.echo_f32, kit.echo_f64):
        assert math.isnan(echo(math.nan))
        assert echo(math.inf) == math.inf and echo(-math.inf) == -math.inf
        zero = echo(-0.0)
        assert zero == 0.0 and math.copysign(1.0, zero) == -1.0
        assert echo(3) == 3.0 and type(echo(3)) is float
    assert kit.echo_f64(0.1) == 0.1 and kit.echo_f64(5e-324) == 5e-324
    f32_tenth = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert kit.echo_f32(0.1) == f32_tenth  # rounded to f32 on the way in, exact on the way out
    assert kit.echo_f32(3.4028234663852886e38) == 3.4028234663852886e38
    with pytest.raises(ArgumentError, match="out of f32's range"):
        kit.echo_f32(1e39)
    with pytest.raises(ArgumentError, match="x must be f64"):
        kit.echo_f64("1.0")


def test_chars_and_strings_carry_any_unicode(kit):
    for ch in ("a", "\0", "é", "\U0001F600", "\U0010FFFF"):
        assert kit.echo_char(ch) == ch
    text = "plain, \0 nul, é, 日本語, astral \U0001F600\U0001F9EA, combining e\u0301"
    assert kit.echo_string(text) == text
    assert kit.echo_string("") == ""
    assert kit.echo_string("x" * 100_000) == "x" * 100_000
    with pytest.raises(ArgumentError, match="one Unicode scalar value"):
        kit.echo_char("ab")
    with pytest.raises(ArgumentError, match="one Unicode scalar value"):
        kit.echo_char("\ud800")
    with pytest.raises(ArgumentError, match="no lone surrogates"):
        kit.echo_string("bad \ud800")
    with pytest.raises(ArgumentError, match="x must be string"):
        kit.echo_string(b"bytes")


def test_list_of_u8_is_bytes(kit):
    data = bytes(range(256))
    assert kit.echo_bytes(data) == data and type(kit.echo_bytes(data)) is bytes
    assert kit.echo_bytes(bytearray(b"ab")) == b"ab"
    assert kit.echo_bytes(memoryview(b"cd")) == b"cd"
    assert kit.echo_bytes([1, 2]) == b"\x01\x02"
    assert kit.echo_bytes(b"") == b""
    with pytest.raises(ArgumentError, match="x must be list<u8>"):
        kit.echo_bytes([256])
    with pytest.raises(ArgumentError, match="x must be list<u8>"):
        kit.echo_bytes("text")


def test_other_lists_and_tuples(kit):
    assert kit.echo_list([-1, 0, 2**31 - 1]) == [-1, 0, 2**31 - 1]
    assert kit.echo_list(range(3)) == [0, 1, 2]
    assert kit.echo_strings(["a", "", "\U0001F600"]) == ["a", "", "\U0001F600"]
    assert kit.echo_tuple((255, "t", -1.5)) == (255, "t", -1.5)
    assert kit.echo_tuple([1, "a", 2]) == (1, "a", 2.0)
    with pytest.raises(ArgumentError, match=r"x\[1\] must be s32"):
        kit.echo_list([1, "2"])
    with pytest.raises(ArgumentError, match=r"x must be tuple<u8, string, f64> \(a tuple of 3\)"):
        kit.echo_tuple((1, "a"))
    with pytest.raises(ArgumentError, match=r"x\[0\] must be u8"):
        kit.echo_tuple((256, "a", 1.0))


def test_records_are_generated_dataclasses_and_accept_dicts(kit):
    point = kit.echo_point({"x": -1, "y": 2})
    assert (point.x, point.y) == (-1, 2) and type(point).__name__ == "Point"
    assert repr(point) == "{x: -1, y: 2}"
    assert kit.echo_point(point) == point  # the generated type is accepted back
    person = kit.echo_person({"name": "Ada", "age": 36, "tags": ["math"], "home": {"x": 1, "y": 2},
                              "color": "blue-ish", "perms": {"read", "exec"}})
    assert person.name == "Ada" and person.home.y == 2 and person.perms == {"read", "exec"}
    assert repr(person) == '{name: "Ada", age: 36, tags: ["math"], home: some({x: 1, y: 2}), color: blue-ish, perms: {read, exec}}'
    homeless = kit.echo_person({"name": "Bo", "age": 0, "tags": [], "color": "red", "perms": set(), "home": None})
    assert homeless.home is None and repr(homeless) == '{name: "Bo", age: 0, tags: [], color: red, perms: {}}'


def test_record_refusals_name_the_field_and_type(kit):
    with pytest.raises(ArgumentError, match="record point has no field 'z'"):
        kit.echo_point({"x": 1, "y": 2, "z": 3})
    with pytest.raises(ArgumentError, match=r"x: record point needs field 'y' \(s32\)"):
        kit.echo_point({"x": 1})
    with pytest.raises(ArgumentError, match=r"x\.age must be u8"):
        kit.echo_person({"name": "a", "age": 300, "tags": [], "home": None, "color": "red", "perms": set()})
    with pytest.raises(ArgumentError, match=r"x\.home\.x must be s32"):
        kit.echo_person({"name": "a", "age": 3, "tags": [], "home": {"x": "1", "y": 0}, "color": "red",
                         "perms": set()})


def test_variants(kit):
    assert kit.echo_shape(Variant("circle", 1.5)) == Variant("circle", 1.5)
    rect = kit.echo_shape(Variant("rect", {"x": 1, "y": 2}))
    assert rect.case == "rect" and rect.value.x == 1 and repr(rect) == "rect({x: 1, y: 2})"
    assert kit.echo_shape("dot") == Variant("dot") and repr(kit.echo_shape("dot")) == "dot"
    assert kit.echo_shape(("circle", 2)) == Variant("circle", 2.0)
    assert kit.echo_shapes(["dot", Variant("circle", 0.5)]) == [Variant("dot"), Variant("circle", 0.5)]
    with pytest.raises(ArgumentError, match="shape has no case 'square'"):
        kit.echo_shape("square")
    with pytest.raises(ArgumentError, match="case dot of shape carries no value"):
        kit.echo_shape(Variant("dot", 1))
    with pytest.raises(ArgumentError, match=r"x\(circle\) must be f64"):
        kit.echo_shape(Variant("circle", "big"))


def test_enums_by_name_or_enum_member(kit):
    blue = kit.echo_color("blue-ish")
    assert isinstance(blue, enum.Enum) and blue.value == "blue-ish" and repr(blue) == "blue-ish"
    assert kit.echo_color(blue) is blue
    assert kit.echo_color("blue_ish") is blue

    class Mine(enum.Enum):
        RED = "red"

    assert kit.echo_color(Mine.RED).value == "red"
    with pytest.raises(ArgumentError, match=r"x must be color \(one of red, green, blue-ish\)"):
        kit.echo_color("purple")


def test_flags_are_sets_of_names(kit):
    perms = kit.echo_perms({"exec", "read"})
    assert perms == {"read", "exec"} and isinstance(perms, Flags) and repr(perms) == "{read, exec}"
    assert kit.echo_perms(set()) == set()
    assert kit.echo_perms(["write", "write"]) == {"write"}

    class Perm(enum.Flag):
        read = 1
        write = 2

    assert kit.echo_perms(Perm.read | Perm.write) == {"read", "write"}
    with pytest.raises(ArgumentError, match="perms has no flag 'fly'"):
        kit.echo_perms({"read", "fly"})
    with pytest.raises(ArgumentError, match="a set of flag names"):
        kit.echo_perms("read")


def test_options_and_nested_options_never_collapse(kit):
    assert kit.echo_option(None) is None
    assert kit.echo_option(7) == 7
    assert kit.echo_option(Some(7)) == 7
    assert kit.echo_nested(None) is None
    assert kit.echo_nested(Some(None)) == Some(None)
    assert kit.echo_nested(Some(Some(3))) == Some(Some(3))
    assert kit.echo_nested(Some(3)) == Some(Some(3))  # Some(3) can only mean some(some(3))
    assert repr(kit.echo_nested(Some(None))) == "some(none)"
    assert repr(kit.echo_nested(Some(3))) == "some(some(3))"
    with pytest.raises(ArgumentError, match=r"Some\(\.\.\.\) for the inner option"):
        kit.echo_nested(3)
    with pytest.raises(ArgumentError, match="x must be u32"):
        kit.echo_option("7")


def test_results_return_ok_and_raise_err_or_give_result_objects(kit):
    assert kit.echo_result(Ok(5)) == 5
    with pytest.raises(GuestError) as info:
        kit.echo_result(Err("bad"))
    assert info.value.payload == "bad"
    assert 'returned err("bad")' in info.value.message and ".result(" in info.value.hint
    assert kit.echo_result.result(Ok(5)) == Ok(5)
    assert kit.echo_result.result(Err("bad")) == Err("bad")
    assert repr(kit.echo_result.result(Err("bad"))) == 'err("bad")'
    assert kit.echo_unit_result(Ok()) is None
    assert kit.echo_unit_result.result(Err()) == Err(None) and repr(Err()) == "err"
    with pytest.raises(GuestError):
        kit.echo_unit_result(Err())
    assert kit.checked_div(-7, 2) == -3
    assert kit.checked_div.result(7, 0) == Err("division by zero")
    with pytest.raises(ArgumentError, match=r"Ok\(\.\.\.\) or Err\(\.\.\.\)"):
        kit.echo_result(5)
    with pytest.raises(ArgumentError, match=r"x\(err\) must be string"):
        kit.echo_result(Err(5))


def test_arity_and_keyword_arguments(kit):
    assert kit.checked_div(a=9, b=3) == 3
    assert kit.checked_div(9, b=3) == 3
    with pytest.raises(ArgumentError, match=r"takes 2 argument\(s\) \(a: s32, b: s32\), got 1"):
        kit.checked_div(1)
    with pytest.raises(ArgumentError, match="got 3"):
        kit.checked_div(1, 2, 3)
    with pytest.raises(ArgumentError, match="takes 2"):
        kit.checked_div(1, c=2)


def test_positional_and_keyword_calls_agree_and_alternate_safely(kit):
    # plain positional values of simple types are written straight into the call's parameter
    # slots (strings borrow the bytes); keyword calls and anything unusual take the checked
    # path, which copies: both give the same, in any order
    samples = {"bool": [True, False], "s8": [-128, 127], "s16": [-1], "s32": [-(1 << 31)], "s64": [(1 << 63) - 1],
               "u8": [255], "u16": [65535], "u32": [(1 << 32) - 1], "u64": [(1 << 64) - 1], "f32": [1.5, -2.0],
               "f64": [math.pi, -0.0], "char": ["é", "\U0001F600"], "string": ["", "héllo", "x" * 5000]}
    for kind, values in samples.items():
        echo = getattr(kit, f"echo_{kind}")
        for value in values:
            assert echo(value) == echo(x=value) == value

    class Level(enum.IntEnum):
        HIGH = 7

    assert kit.echo_u8(Level.HIGH) == 7 and type(kit.echo_u8(Level.HIGH)) is int
    texts = ["", "a", "日本語" * 50, "x" * 70_000]
    for i in range(200):
        text = texts[i % len(texts)]
        assert kit.echo_string(text) == text
        assert kit.echo_string(x=text) == text
        if i % 50 == 0:
            with pytest.raises(ArgumentError, match="no lone surrogates"):
                kit.echo_string("bad \ud800")
            with pytest.raises(ArgumentError, match="x must be u8"):
                kit.echo_u8(256)


def test_refusals_happen_before_the_guest_runs(kitchen, kit):
    counter = kit.Counter(1)
    with pytest.raises(ArgumentError):
        kit.echo_u8(-1)
    assert counter.get() == 1  # the same instance still serves: nothing entered Wasm


def test_resources_constructors_methods_statics(kit):
    a = kit.Counter(5)
    assert isinstance(a, Resource) and repr(a) == "<counter resource (own)>"
    assert a.incr(3) == 8 and a.get() == 8
    b = kit.Counter(-2)
    merged = kit.Counter.merge(a, b)  # borrows both
    assert merged.get() == 6 and a.get() == 8 and b.get() == -2
    assert kit.peek(merged) == 6  # borrow: still ours
    assert merged.get() == 6
    with pytest.raises(AttributeError, match="has no method 'decr'"):
        a.decr(1)
    with pytest.raises(ArgumentError, match=r"by must be s64"):
        a.incr("1")


def test_own_moves_into_the_guest_and_dropped_handles_are_clear_errors(kit):
    c = kit.Counter(4)
    assert kit.consume(c) == 4
    assert repr(c) == "<counter resource (dropped)>"
    with pytest.raises(WasmlabError, match="this counter handle was dropped"):
        c.get()
    with pytest.raises(WasmlabError, match="dropped"):
        kit.peek(c)
    with kit.Counter(1) as d:
        assert d.incr(1) == 2
    with pytest.raises(WasmlabError, match="dropped"):
        d.get()
    e = kit.Counter(0)
    e.drop()
    e.drop()  # twice is harmless
    with pytest.raises(WasmlabError, match="dropped"):
        e.incr(1)
    with pytest.raises(ArgumentError, match=r"c must be counter \(a counter handle\)"):
        kit.consume(7)


def test_a_handle_from_another_instance_is_refused(kitchen, kit):
    old = kit.Counter(1)
    kitchen.reset()  # the next call starts a fresh instance
    with pytest.raises(ArgumentError, match="belongs to another instance"):
        kit.peek(old)
    assert kit.Counter(2).get() == 2
