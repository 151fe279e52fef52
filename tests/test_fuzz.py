"""Malformed and random input of every kind ends in a clean wasmlab error; the process survives."""

import random

import pytest

import wasmlab
from wasmlab.core import load_module
from wasmlab.errors import WasmlabError
from wasmlab.wit import WitRegistry

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
