"""Satisfying a component's non-WASI imports with Python, and explaining what is missing."""

from __future__ import annotations

import wasmtime

from .errors import LinkError

__all__ = ["define_host_imports", "link_error", "missing_imports"]


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
    from . import _calls

    with linker.root() as root:
        for key, item in component.imports.items():
            if key.startswith("wasi:"):
                continue
            provider = _provider(imports, key)
            if provider is None:
                continue
            if item.function is not None:
                root.add_func(key, _calls.host_function(provider, item.function, key))
                continue
            with root.add_instance(key) as instance:
                for name, fn in item.interface.functions.items():
                    impl = _member(provider, name)
                    if impl is not None:
                        instance.add_func(name, _calls.host_function(impl, fn, f"{key}#{name}"))
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
