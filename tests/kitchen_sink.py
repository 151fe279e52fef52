"""The kitchen-sink component: every WIT value kind and a resource, echoed by a Python guest.

Built once per test process (componentize-py, then the build cache); the test modules that
need it wrap :func:`kitchen_sink` in a session fixture.
"""

from __future__ import annotations

import functools

KITCHEN_WIT = """\
package test:kitchen@0.1.0;

interface kit {
  record point { x: s32, y: s32 }
  variant shape { circle(f64), rect(point), dot }
  enum color { red, green, blue-ish }
  flags perms { read, write, exec }
  record person { name: string, age: u8, tags: list<string>, home: option<point>, color: color, perms: perms }

  resource counter {
    constructor(start: s64);
    incr: func(by: s64) -> s64;
    get: func() -> s64;
    merge: static func(a: borrow<counter>, b: borrow<counter>) -> counter;
  }

  echo-bool: func(x: bool) -> bool;
  echo-s8: func(x: s8) -> s8;
  echo-s16: func(x: s16) -> s16;
  echo-s32: func(x: s32) -> s32;
  echo-s64: func(x: s64) -> s64;
  echo-u8: func(x: u8) -> u8;
  echo-u16: func(x: u16) -> u16;
  echo-u32: func(x: u32) -> u32;
  echo-u64: func(x: u64) -> u64;
  echo-f32: func(x: f32) -> f32;
  echo-f64: func(x: f64) -> f64;
  echo-char: func(x: char) -> char;
  echo-string: func(x: string) -> string;
  echo-bytes: func(x: list<u8>) -> list<u8>;
  echo-list: func(x: list<s32>) -> list<s32>;
  echo-strings: func(x: list<string>) -> list<string>;
  echo-tuple: func(x: tuple<u8, string, f64>) -> tuple<u8, string, f64>;
  echo-point: func(x: point) -> point;
  echo-person: func(x: person) -> person;
  echo-shape: func(x: shape) -> shape;
  echo-shapes: func(x: list<shape>) -> list<shape>;
  echo-color: func(x: color) -> color;
  echo-perms: func(x: perms) -> perms;
  echo-option: func(x: option<u32>) -> option<u32>;
  echo-nested: func(x: option<option<u32>>) -> option<option<u32>>;
  echo-result: func(x: result<u32, string>) -> result<u32, string>;
  echo-unit-result: func(x: result) -> result;
  checked-div: func(a: s32, b: s32) -> result<s32, string>;
  peek: func(c: borrow<counter>) -> s64;
  consume: func(c: counter) -> s64;
}

world kitchen {
  export kit;
  export add: func(a: u32, b: u32) -> u32;
}
"""

_ECHOES = ["bool", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "f32", "f64", "char", "string", "bytes",
           "list", "strings", "tuple", "point", "person", "shape", "shapes", "color", "perms", "option", "nested"]

KITCHEN_PY = """\
import sys
import types as _types

from componentize_py_types import Err, Ok


class Counter:
    def __init__(self, start):
        self.value = start

    def incr(self, by):
        self.value += by
        return self.value

    def get(self):
        return self.value

    @staticmethod
    def merge(a, b):
        return Counter(a.value + b.value)


# componentize-py looks exported resources up in a module named after the interface
_kit = _types.ModuleType("kit")
_kit.Counter = Counter
sys.modules["kit"] = _kit


class WitWorld:
    def add(self, a, b):
        return (a + b) & 0xFFFFFFFF


class Kit:
""" + "".join(f"    def echo_{name}(self, x):\n        return x\n\n" for name in _ECHOES) + """\
    def echo_result(self, x):
        if isinstance(x, Err):
            raise x
        return x.value

    def echo_unit_result(self, x):
        if isinstance(x, Err):
            raise x
        return None

    def checked_div(self, a, b):
        if b == 0:
            raise Err("division by zero")
        return int(a / b)

    def peek(self, c):
        return c.value

    def consume(self, c):
        return c.value
"""


@functools.lru_cache(maxsize=None)
def kitchen_sink():
    import wasmlab

    wasmlab.define_wit(KITCHEN_WIT, origin="kitchen.wit")
    return wasmlab.build(world="test:kitchen/kitchen", python=KITCHEN_PY, name="kitchen", progress=False)
