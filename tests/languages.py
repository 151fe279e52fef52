"""The Greeter across languages: one WIT interface, guests in JavaScript, Python and WAT, a Python app.

Shared by tests/test_javascript.py and tests/test_node_engine.py (and the benchmark); each build
happens once per test process (then the build cache).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GREET_WIT = """\
package demo:greet;

interface greeter {
  record person { name: string, languages: list<string>, age: option<u8> }
  greet: func(name: string) -> string;
  describe: func(people: list<person>) -> list<string>;
}

world plugin {
  export greeter;
}

world app {
  import greeter;
  use greeter.{person};
  export welcome: func(names: list<string>) -> string;
  export introduce: func(people: list<person>) -> list<string>;
  export greet-many: func(name: string, times: u32) -> u32;
  export greet-many-locally: func(name: string, times: u32) -> u32;
}
"""

GREETER_JS = """\
export const greeter = {
  greet(name) {
    return `Hello from JavaScript, ${name}!`;
  },
  describe(people) {
    console.log(`JavaScript describes ${people.length} people`);
    return people.map((p) => `${p.name} speaks ${p.languages.join(", ") || "nothing"}`
      + (p.age === undefined ? "" : ` at ${p.age}`));
  },
};
"""

GREETER_PY = """\
class Greeter:
    def greet(self, name):
        return f"Hello from Python, {name}!"

    def describe(self, people):
        return [f"{p.name} speaks {', '.join(p.languages) or 'nothing'}" + ("" if p.age is None else f" at {p.age}")
                for p in people]
"""

GREETER_WAT = """\
(module
  ;; a bump allocator: the host lowers arguments with cabi_realloc; post-return frees everything
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 64) "Hello from WAT, ")
  (func $alloc (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $at) (local.get $size)))
    (local.get $at))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (call $alloc (local.get 3)))
  ;; greet(name) -> "Hello from WAT, " + name + "!", returned through the area at 16
  (func (export "demo:greet/greeter#greet") (param $name i32) (param $len i32) (result i32)
    (local $out i32) (local $total i32)
    (local.set $total (i32.add (local.get $len) (i32.const 17)))
    (local.set $out (call $alloc (local.get $total)))
    (memory.copy (local.get $out) (i32.const 64) (i32.const 16))
    (memory.copy (i32.add (local.get $out) (i32.const 16)) (local.get $name) (local.get $len))
    (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 16))) (i32.const 33))
    (i32.store (i32.const 16) (local.get $out))
    (i32.store (i32.const 20) (local.get $total))
    (i32.const 16))
  ;; describe(people) -> each person's name (a person is 20 bytes: name, languages, age)
  (func (export "demo:greet/greeter#describe") (param $people i32) (param $count i32) (result i32)
    (local $out i32) (local $i i32)
    (local.set $out (call $alloc (i32.mul (local.get $count) (i32.const 8))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (i64.store (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 8)))
                   (i64.load (i32.add (local.get $people) (i32.mul (local.get $i) (i32.const 20)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 16) (local.get $out))
    (i32.store (i32.const 20) (local.get $count))
    (i32.const 16))
  (func (export "cabi_post_demo:greet/greeter#greet") (param i32) (global.set $heap (i32.const 1024)))
  (func (export "cabi_post_demo:greet/greeter#describe") (param i32) (global.set $heap (i32.const 1024))))
"""

APP_PY = """\
from wit_world.imports import greeter


def local_greet(name):
    return f"Hello from Python, {name}!"


class WitWorld:
    def welcome(self, names):
        return " ".join(greeter.greet(n) for n in names)

    def introduce(self, people):
        return greeter.describe(people)

    def greet_many(self, name, times):
        return sum(len(greeter.greet(name)) for _ in range(times))

    def greet_many_locally(self, name, times):
        return sum(len(local_greet(name)) for _ in range(times))
"""

COMPOSE_WAC = """\
package demo:composed;

let greeter = new demo:greeter { ... };
let app = new demo:app { greeter: greeter.greeter, ... };
export app.welcome;
export app.introduce;
export app.greet-many;
export app.greet-many-locally;
"""


def shared_tools_dir() -> Path:
    """The user's npm tool folder: the pinned packages (~400 MB) install once, not per test session."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wasmlab" / "tools"


def require_node() -> None:
    """Skip, saying why, where Node.js with npm cannot be had."""
    if not (os.environ.get("WASMLAB_NODE") or shutil.which("node")) or not shutil.which("npm"):
        pytest.skip("needs Node.js 18+ and npm (apt-get install nodejs npm)")


@functools.lru_cache(maxsize=None)
def greet_wit():
    import wasmlab

    return wasmlab.define_wit(GREET_WIT, origin="greet.wit")


@functools.lru_cache(maxsize=None)
def js_greeter():
    import wasmlab

    greet_wit()
    return wasmlab.build(world="demo:greet/plugin", js=GREETER_JS, name="greeter", progress=False)


@functools.lru_cache(maxsize=None)
def py_greeter():
    import wasmlab

    greet_wit()
    return wasmlab.build(world="demo:greet/plugin", python=GREETER_PY, name="greeter", progress=False)


@functools.lru_cache(maxsize=None)
def wat_greeter():
    import wasmlab

    greet_wit()
    return wasmlab.build(world="demo:greet/plugin", wat=GREETER_WAT, name="greeter", progress=False)


@functools.lru_cache(maxsize=None)
def py_app():
    import wasmlab

    greet_wit()
    return wasmlab.build(world="demo:greet/app", python=APP_PY, name="app", progress=False)


def composed(greeter):
    import wasmlab

    return wasmlab.compose(COMPOSE_WAC, name="composed", namespace={"greeter": greeter, "app": py_app()})


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """The wasmlab command as a user runs it (a separate process, this environment)."""
    script = Path(sys.executable).with_name("wasmlab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "wasmlab.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, stdin=subprocess.DEVNULL,
                          env=os.environ.copy())
