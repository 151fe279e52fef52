"""Malformed and random input of every kind ends in a clean wasmlab error; the process survives."""

import random

import pytest

import wasmlab
from wasmlab.errors import WasmlabError
from wasmlab.runtime.core_modules import load_module
from wasmlab.toolchain.wit import WitRegistry

SEEDS = range(40)


def _mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(("delete", "insert", "swap"))
        i = rng.randrange(len(chars)) if chars else 0
        if op == "delete" and chars:
            del chars[i]
        elif op == "insert":
            chars.insert(i, rng.choice("(){}<>;:,@/\"'\\$#-_0123456789azAZ \n\t\u00e9\u2603"))
        elif chars:
            j = rng.randrange(len(chars))
            chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


WIT = "package fuzz:case;\ninterface api { record r { a: u8 } f: func(x: list<r>) -> option<string>; }\nworld w { export api; }\n"
WAT = '(module (memory (export "memory") 1) (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))'


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_wit_is_accepted_or_a_wit_error(seed):
    source = _mutate(random.Random(seed), WIT)
    try:
        WitRegistry().define(source)
    except WasmlabError as err:
        assert err.render().strip()


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_wat_is_a_module_or_a_clean_error(seed):
    source = _mutate(random.Random(1000 + seed), WAT)
    try:
        module = load_module(source)
    except WasmlabError as err:
        assert "Traceback" not in err.render()
        return
    if "add" in module.exports:
        try:
            module.add(1, 2)
        except WasmlabError:
            pass


@pytest.mark.parametrize("seed", SEEDS)
def test_random_bytes_never_load_as_anything(seed, tmp_path):
    rng = random.Random(2000 + seed)
    data = rng.choice([b"", b"\0asm", b"\0asm\x01\x00\x00\x00", b"\0asm\x0d\x00\x01\x00"]) + rng.randbytes(rng.randint(0, 64))
    for loader in (wasmlab.load, load_module):
        with pytest.raises(WasmlabError):
            loader(data)


@pytest.mark.parametrize("value", [None, "1", 1.5, [1], {"a": 1}, 2**40, -(2**31) - 1, True, object()])
def test_wrong_python_arguments_are_argument_errors(value):
    module = load_module(WAT)
    with pytest.raises(WasmlabError):
        module.add(value, 1)


COMPONENT_WIT = "package fuzz:adder;\nworld adder { export add: func(a: u32, b: u32) -> u32; }\n"


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_wat_builds_a_component_or_a_clean_error(seed):
    """The same mutations through ``build``: wasm-tools embeds and wraps the module into a
    component, or the build fails with a located error."""
    wasmlab.define_wit(COMPONENT_WIT)
    source = _mutate(random.Random(3000 + seed), WAT)
    try:
        component = wasmlab.build(world="fuzz:adder/adder", wat=source, progress=False)
    except WasmlabError as err:
        assert "Traceback" not in err.render()
        return
    try:
        assert isinstance(component.add(1, 2), int)
    except WasmlabError:
        pass


CALL_WIT = """package fuzz:call;

world target {
  record point { x: s32, y: s32 }
  variant shape { circle(f64), rect(point), dot }
  flags perms { read, write, exec }
  enum color { red, green }
  export describe: func(points: list<point>, shape: shape, perms: perms, color: color,
                        label: option<string>, outcome: result<u8, string>, initial: char,
                        pair: tuple<u64, s8>) -> string;
}
"""

CALL_PY = """\
class WitWorld:
    def describe(self, points, shape, perms, color, label, outcome, initial, pair):
        return repr((points, shape, perms, color, label, outcome, initial, pair))
"""

CALL = ('describe([{x: 1, y: -2}, {x: 3, y: 4}], rect({x: 0, y: 0}), {read, exec}, green, some("hi \\u{1F600}"), '
        "err(\"no\"), 'z', (18446744073709551615, -128))")


@pytest.fixture(scope="module")
def call_target(tmp_path_factory):
    wasmlab.define_wit(CALL_WIT)
    component = wasmlab.build(world="fuzz:call/target", python=CALL_PY, progress=False)
    path = tmp_path_factory.mktemp("fuzz") / "target.wasm"
    path.write_bytes(component.wasm)
    return path


def test_the_unmutated_call_works(call_target, capsys):
    from wasmlab.cli.main import main

    assert main(["call", str(call_target), CALL]) == 0
    assert "Shape_Rect(value=Point(x=0, y=0))" in capsys.readouterr().out


@pytest.mark.parametrize("seed", range(60))
def test_mutated_wave_arguments_are_values_or_clean_errors(call_target, capsys, seed):
    """``wasmlab call`` with mangled WAVE text: it calls with what parses, or exits 1 with a
    ``call:line:col: message`` error; never a traceback, never a crash."""
    from wasmlab.cli.main import main

    expression = _mutate(random.Random(4000 + seed), CALL)
    code = main(["call", str(call_target), expression])
    captured = capsys.readouterr()
    assert code in (0, 1), expression
    assert "Traceback" not in captured.err + captured.out
    if code == 1:
        assert captured.err.strip(), expression
