"""wasmlab.runtime.capi is the one door to wasmtime-py's private layer: every private name it
relies on exists in the installed wasmtime, no other module reaches past it, and the C values it
owns are freed exactly once."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from wasmlab import capabilities
from wasmlab.runtime import capi, codecs
from wasmlab.wittypes import ListT, Prim

PACKAGE = Path(__file__).resolve().parents[1] / "wasmlab"

# what reaching into wasmtime-py's private layer looks like in source
PRIVATE_USE = re.compile(r"wasmtime\._|\b_ffi\b|\bffi\.|\._from_ptr\b|\._context\(\)|\._consume\(\)|"
                         r"component\._enter|\bfunc\._func\b")


@pytest.mark.parametrize("symbol", capi.PRIVATE_SYMBOLS)
def test_the_installed_wasmtime_has_every_private_symbol_wasmlab_uses(symbol):
    missing = capi.missing_symbols([symbol])
    assert not missing, (f"wasmtime {version('wasmtime')} lacks {symbol}, which wasmlab.runtime.capi uses: "
                         f"install the version pyproject.toml pins, or port capi to this one")


def test_the_symbol_check_names_what_is_missing():
    found = capi.missing_symbols(["wasmtime._ffi.wasmtime_component_val_t", "wasmtime._ffi.no_such_function",
                                  "wasmtime.component.Func._func", "wasmtime.component.Func._no_such_field",
                                  "wasmtime._no_such_module.x"])
    assert found == ["wasmtime._ffi.no_such_function", "wasmtime.component.Func._no_such_field",
                     "wasmtime._no_such_module.x"]


def test_the_docstring_lists_every_private_symbol():
    doc = capi.__doc__
    for symbol in capi.PRIVATE_SYMBOLS:
        last = symbol.rsplit(".", 1)[-1]
        if last.startswith("WASMTIME_COMPONENT_"):
            last = "WASMTIME_COMPONENT_<KIND>"
        assert f"``{last}``" in doc or f".{last}``" in doc, symbol


def test_no_other_module_touches_wasmtimes_private_layer():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "capi.py" and path.parent.name == "runtime":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if PRIVATE_USE.search(code):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not offenders, "use wasmlab.runtime.capi instead:\n" + "\n".join(offenders)


def test_sockets_are_described_as_the_c_api_allows():
    assert capabilities.sockets_available() == capi.SOCKETS_SWITCHABLE, (
        "this wasmtime-py can switch TCP/UDP on: let capabilities.sockets_available() say so and "
        "capi.wasi_config switch them on")


@pytest.mark.parametrize("ty, value", [
    (Prim("string"), "a string long enough to be heap allocated"),
    (ListT(Prim("string")), ["one", "two", "three"]),
])
def test_a_value_slot_is_freed_exactly_once(ty, value):
    codec = codecs.codec(ty)
    slots = capi.ValSlots(2)
    for i in range(2):
        codec.lower(codec.check(value, "x"), slots[i])
    assert slots[0].kind != capi.KIND["bool"]
    slots.free([0, 1])
    slots.free([0, 1])  # a second free finds plain values: nothing is freed twice
    assert slots[0].kind == slots[1].kind == capi.KIND["bool"]
