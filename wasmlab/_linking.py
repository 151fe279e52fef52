"""Satisfying a component's non-WASI imports with Python, and explaining what is missing.

Host functions get and return the same Python values calls do (:mod:`wasmlab.values`): a
trampoline of wasmlab's own converts with the WIT types' codecs, not wasmtime-py's generic
conversion (which collapses ``option<option<T>>`` and returns untyped records).
"""

from __future__ import annotations

import ctypes
import itertools

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component._enter import catch_exceptions

from . import _abi
from .errors import LinkError, WasmlabError

__all__ = ["define_host_imports", "link_error", "missing_imports", "HostError"]


class HostError(WasmlabError):
    """A Python function implementing an import raised; the guest call it served is abandoned."""

    kind = "host error"


class _HostFunction:
    def __init__(self, impl, function, name: str):
        self.impl = impl
        self.name = name
        # a stream or future reaching a Python host function aborts wasmtime: refuse it at link time
        for where, ty in [(f"parameter {p} of host function {name}", t) for p, t in function.params] + \
                [(f"the result of host function {name}", function.result)]:
            found = _abi._crosses_boundary(ty)
            if found is not None:
                raise _abi.refuse_host_boundary(where, found)
        self.params = [_abi.codec(t) for _, t in function.params]
        self.result = _abi.codec(function.result) if function.result is not None else None

    def invoke(self, args, nargs: int, results) -> None:
        values = [c.lift(args[i]) for i, c in zip(range(nargs), self.params)]
        try:
            value = self.impl(*values)
        except Exception as exc:
            raise HostError(f"the host function {self.name} raised {type(exc).__name__}: {exc}") from exc
        if self.result is not None:
            checked = self.result.check(value, f"the result of host function {self.name}")
            self.result.lower(checked, results[0])
        elif value is not None:
            raise HostError(f"the host function {self.name} returned {value!r} but its WIT type returns nothing")


_HOST_FUNCTIONS: dict[int, _HostFunction] = {}
_handles = itertools.count(1)


@ffi.wasmtime_component_func_callback_t
def _trampoline(idx, context, _ty, args, nargs, results, _nresults):  # type: ignore[misc]
    return catch_exceptions(context, lambda _store: _HOST_FUNCTIONS[idx or 0].invoke(args, nargs, results))


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _finalize(idx):  # type: ignore[misc]
    _HOST_FUNCTIONS.pop(idx or 0, None)


def _add_func(linker_instance, name: str, host: _HostFunction) -> None:
    handle = next(_handles)
    _HOST_FUNCTIONS[handle] = host
    encoded = name.encode("utf-8")
    error = ffi.wasmtime_component_linker_instance_add_func(
        linker_instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), _trampoline, handle, _finalize)
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)


def _provider(imports: dict, key: str):
    short = key.split("/")[-1].split("@")[0] if "/" in key else key
    for name in (key, key.split("@")[0], short, short.replace("-", "_")):
        if name in imports:
            return imports[name]
    return None


def _member(provider, wit_name: str):
    py_name = wit_name.replace("-", "_")
    if isinstance(provider, dict):
        return provider.get(wit_name, provider.get(py_name))
    return getattr(provider, py_name, None)


def missing_imports(component, imports: dict) -> list[str]:
    """Non-WASI imports nobody supplies, each with its WIT signature."""
    missing = []
    for key, item in component.imports.items():
        if key.startswith("wasi:"):
            continue
        provider = _provider(imports, key)
        if item.function is not None:
            if provider is None:
                missing.append(f"{key}: {item.function.signature()}")
        elif item.interface is not None:
            for name, fn in item.interface.functions.items():
                if provider is None or _member(provider, name) is None:
                    missing.append(f"{key}#{name}: {fn.signature()}")
    return missing


def define_host_imports(linker, component, compiled, imports: dict, *, stub_missing: bool) -> None:
    with linker.root() as root:
        for key, item in component.imports.items():
            if key.startswith("wasi:"):
                continue
            provider = _provider(imports, key)
            if provider is None:
                continue
            if item.function is not None:
                _add_func(root, key, _HostFunction(provider, item.function, key))
                continue
            with root.add_instance(key) as instance:
                for name, fn in item.interface.functions.items():
                    impl = _member(provider, name)
                    if impl is not None:
                        _add_func(instance, name, _HostFunction(impl, fn, f"{key}#{name}"))
    if stub_missing:
        linker.define_unknown_imports_as_traps(compiled)


def link_error(component, imports: dict, exc: wasmtime.WasmtimeError) -> LinkError:
    missing = missing_imports(component, imports)
    if missing:
        shown = "\n".join(f"  {m}" for m in missing[:12])
        return LinkError(f"component {component.name} needs imports nobody supplies:\n{shown}",
                         hint="pass imports={'iface': object_with_functions} or stub_missing=True "
                              "(missing ones then trap when called)")
    first = str(exc).splitlines()[0] if str(exc) else "instantiation failed"
    hint = None
    if "wasi:" in str(exc):
        hint = "this host provides WASI 0.2; WASI 0.3 programs run through the wasmtime CLI backend"
    return LinkError(first, detail="\n".join(str(exc).splitlines()[1:6]) or None, hint=hint)
