"""Satisfying a component's non-WASI imports with Python, and explaining what is missing.

Host functions get and return the same Python values calls do (:mod:`wasmlab.values`): a
trampoline of wasmlab's own converts with the WIT types' codecs, not wasmtime-py's generic
conversion (which collapses ``option<option<T>>`` and returns untyped records).

An imported resource is implemented by a Python class: its constructor is the WIT
constructor, its methods and static methods are the resource's (snake_case names).  The guest
sees a handle; Python sees the object itself.  When the guest drops its handle, the object's
``drop()`` method runs if it has one.
"""

from __future__ import annotations

import ctypes
import itertools
import re

import wasmtime
from wasmtime.component import ResourceHost, ResourceType

from wasmlab.errors import LinkError, WasmlabError
from wasmlab.runtime import capi, codecs
from wasmlab.values import class_name, py_name
from wasmlab.wittypes import ResourceT

__all__ = ["define_host_imports", "link_error", "missing_imports", "HostError", "HostResources"]


class HostError(WasmlabError):
    """A Python function implementing an import raised; the guest call it served is abandoned."""

    kind = "host error"


_resource_type_ids = itertools.count(1)


class HostResources:
    """The Python objects behind the guest's handles to imported resources, for one instance."""

    def __init__(self):
        self.classes: dict[ResourceT, type] = {}
        self.type_ids: dict[ResourceT, int] = {}
        self.objects: dict[int, object] = {}  # rep -> object
        self.reps: dict[int, int] = {}  # id(object) -> rep
        self.context = None  # the store context of the host call in progress
        self._reps = itertools.count(1)

    def define(self, resource: ResourceT, cls) -> ResourceType:
        self.classes[resource] = cls
        self.type_ids[resource] = next(_resource_type_ids)
        return ResourceType.host(self.type_ids[resource])

    def lower(self, resource: ResourceT, obj, *, owned: bool):
        rep = self.reps.get(id(obj))
        if rep is None:
            rep = next(self._reps)
            self.reps[id(obj)] = rep
            self.objects[rep] = obj
        type_id = self.type_ids[resource]
        host = ResourceHost.own(rep, type_id) if owned else ResourceHost.borrow(rep, type_id)
        return capi.host_resource_to_any(host, self.context)

    def lift(self, resource: ResourceT, handle, *, owned: bool):
        rep = handle.to_host(self.context).rep
        obj = self.objects.get(rep)
        if obj is None:
            raise HostError(f"the guest used a {resource.name} handle that was already dropped")
        if owned:  # the guest hands ownership back: its handle is gone, the object is Python's again
            handle.drop(self.context)
        return obj

    def destroyed(self, rep: int) -> None:
        obj = self.objects.pop(rep, None)
        if obj is None:
            return
        self.reps.pop(id(obj), None)
        drop = getattr(obj, "drop", None)
        if callable(drop):
            drop()


class _HostFunction:
    def __init__(self, impl, function, name: str, binder: "_Binder"):
        self.impl = impl
        self.name = name
        codecs.refuse_streams(function, f"host function {name}")  # at link time, before the guest runs
        self.resources = binder.host_resources
        self.params = [codecs.codec(t, binder) for _, t in function.params]
        self.result = codecs.codec(function.result, binder) if function.result is not None else None

    def invoke(self, store, args, nargs: int, results) -> None:
        outer, self.resources.context = self.resources.context, store
        try:
            self._invoke(args, nargs, results)
        finally:
            self.resources.context = outer

    def _invoke(self, args, nargs: int, results) -> None:
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


class _Binder:
    """What host-function codecs need: the instance's table of host resources."""

    def __init__(self, resources: HostResources):
        self.host_resources = resources


_HOST_FUNCTIONS: dict[int, _HostFunction] = {}
_DESTRUCTORS: dict[int, tuple[HostResources, ResourceT]] = {}
_handles = itertools.count(1)


@capi.host_callback
def _trampoline(idx, context, _ty, args, nargs, results, _nresults):  # type: ignore[misc]
    return capi.catch_exceptions(context, lambda store: _HOST_FUNCTIONS[idx or 0].invoke(store, args, nargs, results))


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _finalize(idx):  # type: ignore[misc]
    if _HOST_FUNCTIONS is not None:  # None while the interpreter shuts down
        _HOST_FUNCTIONS.pop(idx or 0, None)


@capi.destructor_callback
def _destructor(idx, context, rep):  # type: ignore[misc]
    resources, _resource = _DESTRUCTORS[idx or 0]
    return capi.catch_exceptions(context, lambda _store: resources.destroyed(rep))


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _finalize_destructor(idx):  # type: ignore[misc]
    if _DESTRUCTORS is not None:
        _DESTRUCTORS.pop(idx or 0, None)


def _add_func(linker_instance, name: str, host: _HostFunction) -> None:
    handle = next(_handles)
    _HOST_FUNCTIONS[handle] = host
    capi.link_host_func(linker_instance, name, _trampoline, handle, _finalize)


def _add_resource(linker_instance, resource: ResourceT, cls, resources: HostResources) -> None:
    ty = resources.define(resource, cls)
    handle = next(_handles)
    _DESTRUCTORS[handle] = (resources, resource)
    capi.link_host_resource(linker_instance, resource.name, ty, _destructor, handle, _finalize_destructor)


def _provider(imports: dict, key: str):
    short = key.split("/")[-1].split("@")[0] if "/" in key else key
    for name in (key, key.split("@")[0], short, py_name(short)):
        if name in imports:
            return imports[name]
    return None


def _member(provider, wit_name: str):
    names = (wit_name, py_name(wit_name), class_name(wit_name))
    if isinstance(provider, dict):
        return next((provider[n] for n in names if n in provider), None)
    return next((getattr(provider, n) for n in names if getattr(provider, n, None) is not None), None)


def _resource_impl(provider, fn):
    """The Python callable behind a resource's constructor, method or static function."""
    cls = _member(provider, fn.resource.name) if provider is not None else None
    if cls is None:
        return None
    if fn.kind == "constructor":
        return cls
    member = py_name(fn.short_name)
    if getattr(cls, member, None) is None:
        return None
    if fn.kind == "method":
        return lambda self, *args: getattr(self, member)(*args)
    return getattr(cls, member)


def _interface_resources(interface) -> list[ResourceT]:
    return [ty for ty in interface.types.values() if isinstance(ty, ResourceT)]


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
            for resource in _interface_resources(item.interface):
                if provider is None or _member(provider, resource.name) is None:
                    missing.append(f"{key}: resource {resource.name} (a Python class {class_name(resource.name)})")
            for name, fn in item.interface.functions.items():
                if fn.kind != "freestanding":
                    if provider is not None and _member(provider, fn.resource.name) is not None \
                            and _resource_impl(provider, fn) is None:
                        missing.append(f"{key}#{name}: {fn.signature()}")
                elif provider is None or _member(provider, name) is None:
                    missing.append(f"{key}#{name}: {fn.signature()}")
    return missing


def define_host_imports(linker, component, compiled, imports: dict, *, stub_missing: bool) -> HostResources:
    """Define the Python implementations in ``imports`` in ``linker``; returns the table of
    host resource objects the instance will share with the guest."""
    resources = HostResources()
    binder = _Binder(resources)
    with linker.root() as root:
        for key, item in component.imports.items():
            if key.startswith("wasi:"):
                continue
            provider = _provider(imports, key)
            if provider is None:
                continue
            if item.function is not None:
                _add_func(root, key, _HostFunction(provider, item.function, key, binder))
                continue
            with root.add_instance(key) as instance:
                for resource in _interface_resources(item.interface):
                    cls = _member(provider, resource.name)
                    if cls is not None:
                        _add_resource(instance, resource, cls, resources)
                for name, fn in item.interface.functions.items():
                    if fn.kind == "freestanding":
                        impl = _member(provider, name)
                    elif fn.resource in resources.classes:
                        impl = _resource_impl(provider, fn)
                    else:
                        impl = None
                    if impl is not None:
                        _add_func(instance, name, _HostFunction(impl, fn, f"{key}#{name}", binder))
    if stub_missing:
        linker.define_unknown_imports_as_traps(compiled)
    return resources


def link_error(component, imports: dict, exc: wasmtime.WasmtimeError) -> LinkError:
    missing = missing_imports(component, imports)
    if missing:
        shown = "\n".join(f"  {m}" for m in missing[:12])
        return LinkError(f"component {component.name} needs imports nobody supplies:\n{shown}",
                         hint="pass imports={'iface': object_with_functions} or stub_missing=True "
                              "(missing ones then trap when called)")
    first = str(exc).splitlines()[0] if str(exc) else "instantiation failed"
    named = _UNLINKED.search(str(exc))
    return LinkError(first, detail="\n".join(str(exc).splitlines()[1:6]) or None,
                     hint=_unimplemented_hint(component, named.group(1) if named else None))


# how wasmtime names the import it found no implementation for
_UNLINKED = re.compile(r"component imports \w+ `([^`]+)`")
_HOST_WASI = "cli, clocks, filesystem, io, random and sockets"


def _unimplemented_hint(component, name: str | None) -> str | None:
    """What to do about an import wasmlab's in-process host has no implementation of: ``name``
    as wasmtime named it, or ``None`` when it named none."""
    http = [k for k in component.imports if k.startswith("wasi:http/")]
    if http and (name is None or name.startswith("wasi:http/")):
        return (f"wasmlab's in-process host has no wasi:http ({', '.join(http)}): its calls and runs go to the "
                "wasmtime CLI (-S http), with component.grants = Grants().with_network() (--inherit-network) "
                "for outgoing requests; or build it without --js-feature http (a JavaScript component's fetch)")
    if name is None:
        name = next((k for k in component.imports if k.startswith("wasi:") and "@0.3" in k), None)
    if name is None or not name.startswith("wasi:"):
        return None
    if "@0.3" in name:
        return "this host provides WASI 0.2; WASI 0.3 programs run through the wasmtime CLI backend"
    return (f"wasmlab's in-process host implements WASI 0.2 {_HOST_WASI}, not {name}: "
            "build the component for a world that does not import it")
