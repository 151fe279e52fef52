"""The notebook's component object: inspect it, call its exports as Python attributes.

``Component`` is what builds and loads return.  It displays its world (imports grouped into
capabilities, exports with signatures, the WIT).  Its exports are attributes with Python names
(``shop.pricing.total(items, "gold")``) and are also reachable by their full WIT names
(``shop["acme:shop/pricing@0.1.0"]["total"]``, ``shop.export("pricing#total")``).

Calls run in an instance the component keeps; a trap discards it, so the next call gets a
fresh one.  ``instantiate()`` gives instances of your own.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from wasmlab import views
from wasmlab.capabilities import CAPABILITIES, Grants, Limits, denial_hint, group_imports, sockets_available
from wasmlab.errors import ArgumentError, GuestExit, LoadError, WasmlabError
from wasmlab.runtime import codecs, engines, host_imports, usage
from wasmlab.toolchain import cache
from wasmlab.values import Resource
from wasmlab.views import Displayable
from wasmlab.wittypes import Function, Interface, Resolve, ResourceT, World, WorldItem

__all__ = ["Component", "Instance", "load"]


def _py_name(wit_name: str) -> str:
    return wit_name.replace("-", "_")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("-") if part)


def _short(key: str) -> str:
    """``acme:shop/pricing@0.1.0`` -> ``pricing``; plain names stay."""
    return key.split("/")[-1].split("@")[0] if "/" in key else key


class Component(Displayable):
    """A WebAssembly component: its world, its exports as callables, its instances."""

    def __init__(self, name: str, wasm_path: Path, meta: dict, entry: cache.CacheEntry | None = None,
                 *, cached: bool = False, imports: dict | None = None):
        self.name = name
        self.wasm_path = Path(wasm_path)
        self.wit: str = meta["wit"]
        self.resolve = Resolve(meta["resolve"])
        self.cached = cached
        self.host_imports: dict = dict(imports or {})
        self._entry = entry
        self._compiled: dict[engines.EngineKind, wc.Component] = {}
        self._instance: Instance | None = None
        self._export_indexes: dict[tuple, wc.ExportIndex | None] = {}
        self._grants = Grants()
        self._limits = Limits()
        self._last_fuel: int | None = None
        self._last_usage = None  # (Usage, Grants) of the last call or run
        self._last_call: tuple | None = None  # (callable, args, kwargs): see last_action

    @property
    def last_action(self):
        """Repeats the last call or run (the grants panel's re-run button), or None."""
        if self._last_call is None:
            return None
        action, args, kwargs = self._last_call
        return lambda: action(*args, **kwargs)

    @last_action.setter
    def last_action(self, action) -> None:
        self._last_call = None if action is None else (action, (), {})

    # ---- what it is -------------------------------------------------------------------
    @functools.cached_property
    def world(self) -> World:
        pkg = self.resolve.package("root:component")
        if pkg is not None and pkg.worlds:
            return next(iter(pkg.worlds.values()))
        return self.resolve.worlds[-1]

    @property
    def imports(self) -> dict[str, WorldItem]:
        return self.world.imports

    @property
    def exports(self) -> dict[str, WorldItem]:
        """Every export, including a build tool's own (componentize-py exports an ``init`` hook)."""
        return self.world.exports

    @functools.cached_property
    def user_exports(self) -> dict[str, WorldItem]:
        """The exports the component's world declares, without toolchain internals."""
        return {k: v for k, v in self.exports.items() if not _is_toolchain_export(k, v)}

    @property
    def capabilities(self) -> dict[str, list[str]]:
        """The component's WASI imports grouped into the capabilities they stand for."""
        return group_imports(self.imports)

    @property
    def wasm(self) -> bytes:
        return self.wasm_path.read_bytes()

    def summary(self) -> str:
        lines = [f"component {self.name} ({self.wasm_path.stat().st_size / 1e6:.1f} MB)"
                 + (" [from cache]" if self.cached else "")]
        caps = self.capabilities
        if caps:
            lines.append("asks for (WASI):")
            for cap, names in caps.items():
                lines.append(f"  {cap:12} {len(names)} interface{'s' if len(names) != 1 else ''}"
                             f" - {CAPABILITIES[cap]}")
        others = [k for k in self.imports if not k.startswith("wasi:")]
        if others:
            lines.append("imports:")
            lines.extend(_item_lines(self.imports[k]) for k in others)
        lines.append("exports:")
        lines.extend(_item_lines(item) for item in self.user_exports.values())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    # ---- running ----------------------------------------------------------------------
    def compiled(self, kind: engines.EngineKind = engines.EngineKind()) -> wc.Component:
        """The compiled component for an engine ``kind``; cached on disk."""
        if kind not in self._compiled:
            self._compiled[kind] = engines.compile_component(self.wasm_path, entry=self._entry, kind=kind,
                                                       title=f"loading {self.name}")
        return self._compiled[kind]

    def instantiate(self, imports: dict | None = None, *, grants: Grants | None = None,
                    limits: Limits | None = None, stub_missing: bool = False, echo: bool = True) -> "Instance":
        """A new instance in a store of its own.

        ``imports`` implements non-WASI imports in Python: ``{"ns:pkg/iface@v" or "iface":
        object-or-dict-of-functions, "root-func": function}``.  With ``stub_missing`` any import
        left over traps when called instead of failing to link.  ``grants`` and ``limits``
        default to the component's own (nothing granted, no limits).
        """
        merged = {**self.host_imports, **(imports or {})}
        return Instance(self, merged, grants=grants or self.grants, limits=limits or self.limits,
                        stub_missing=stub_missing, echo=echo)

    @property
    def grants(self) -> Grants:
        """What calls through the component may touch; setting it starts a fresh instance."""
        return self._grants

    @grants.setter
    def grants(self, value: Grants) -> None:
        self._grants = value
        self.reset()

    @property
    def limits(self) -> Limits:
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = value
        self.reset()

    def _default_instance(self) -> "Instance":
        if self._instance is None or self._instance.poisoned:
            self._instance = self.instantiate()
        return self._instance

    def reset(self) -> None:
        """Drop the instance calls run in; the next call starts fresh."""
        self._instance = None

    def report(self):
        """What the component asks for, what its last call or run was granted, and what it used."""
        from wasmlab.capabilities import CapabilityReport

        used, grants = self._last_usage or (None, self.grants)
        return CapabilityReport(self.name, list(self.imports), grants, used or usage.Usage())

    def grants_panel(self):
        """An ipywidgets panel that edits this component's grants and limits and re-runs the
        last call or command with one click, showing its result and capability report."""
        return views.make("grants panel", self)

    def form(self, target: str):
        """An ipywidgets form that calls one export (``func``, ``iface#func``, full name) with a click."""
        return views.make("call form", self.export(target))

    def forms(self):
        """A form per exported function, in an accordion."""
        return views.make("call forms", self)

    @property
    def fuel_consumed(self) -> int | None:
        """Fuel the last call or run used, when ``limits.fuel`` is set (about one unit per instruction)."""
        return self._last_fuel

    def resource_path(self, function: Function) -> tuple[str, ...]:
        """Where a resource's method lives among the exports: (interface key, WIT name)."""
        for key, item in self.exports.items():
            if item.interface is not None and item.interface.functions.get(function.name) is function:
                return (key, function.name)
        return (function.name,)

    def export_index(self, *path: str, kind: engines.EngineKind = engines.EngineKind()) -> wc.ExportIndex | None:
        key = (kind, *path)
        if key not in self._export_indexes:
            parent = self.export_index(*path[:-1], kind=kind) if len(path) > 1 else None
            if len(path) > 1 and parent is None:
                return None
            self._export_indexes[key] = self.compiled(kind).get_export_index(path[-1], parent)
        return self._export_indexes[key]

    # ---- exports as attributes ----------------------------------------------------------
    @functools.cached_property
    def _namespace(self) -> dict[str, WorldItem]:
        names: dict[str, WorldItem] = {}
        for key, item in self.user_exports.items():
            if item.kind == "type":
                continue
            names.setdefault(_py_name(_short(key)), item)
        return names

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._namespace))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        item = self._namespace.get(name)
        if item is None:
            known = ", ".join(sorted(self._namespace)) or "nothing"
            raise AttributeError(f"component {self.name} exports no {name!r}; it exports: {known}")
        bound = self.__dict__[name] = self._bind(item)  # found directly next time: no lookup per call
        return bound

    def __getitem__(self, key: str):
        item = self.exports.get(key)
        if item is None:
            item = next((i for k, i in self.exports.items() if _short(k) == key), None)
        if item is None:
            raise KeyError(f"component {self.name} has no export {key!r}; exports: {', '.join(self.exports)}")
        return self._bind(item)

    def _bind(self, item: WorldItem):
        if item.function is not None:
            return ExportedFunction(self, (item.key,), item.function)
        return ExportedInterface(self, item)

    def export(self, target: str) -> "ExportedFunction":
        """An export by ``func``, ``iface#func`` or ``ns:pkg/iface@ver#func``."""
        iface, sep, func = target.rpartition("#")
        if not sep:
            item = self.exports.get(target)
            if item is None:  # as wasmtime --invoke: a function name unique among the exported interfaces
                found = [(k, i) for k, i in self.user_exports.items()
                         if i.interface is not None and target in i.interface.functions]
                if len(found) == 1:
                    return self[found[0][0]][target]
            if item is None or item.function is None:
                raise WasmlabError(f"no exported function {target!r}",
                                   hint="exported functions: " + ", ".join(self._function_names()))
            return ExportedFunction(self, (item.key,), item.function)
        bound = self[iface]
        if not isinstance(bound, ExportedInterface):
            raise WasmlabError(f"{iface!r} is a function, not an interface")
        return bound[func]

    def _function_names(self) -> list[str]:
        names = []
        for key, item in self.user_exports.items():
            if item.function is not None:
                names.append(key)
            elif item.interface is not None:
                names.extend(f"{_short(key)}#{f}" for f in item.interface.functions)
        return names

    def call(self, target: str, *args, **kwargs):
        """Call an export by name (see :meth:`export`)."""
        return self.export(target)(*args, **kwargs)

    def engine(self, name: str = "wasmtime"):
        """The component under another engine: ``"node"`` runs its exports in Node's V8 (jco +
        preview2-shim; see :mod:`wasmlab.runtime.node_engine`), ``"wasmtime"`` is the component itself."""
        if name == "wasmtime":
            return self
        if name == "node":
            from wasmlab.runtime.node_engine import NodeEngine

            engines_ = self.__dict__.setdefault("_engines", {})
            return engines_.setdefault(name, NodeEngine(self))
        raise WasmlabError(f"unknown engine {name!r}", hint="engines: wasmtime, node")

    def transpile(self, out_dir: str | os.PathLike) -> Path:
        """``jco transpile``: this component as an ES module in ``out_dir``; returns the module's path."""
        from wasmlab.toolchain.javascript import transpile

        return transpile(self.wasm_path, out_dir, name=self.name)

    def run(self, *args: str, stdin: str | bytes | None = None, echo: bool = True) -> engines.RunResult:
        """Run a command component (one exporting ``wasi:cli/run``) in a fresh instance.

        ``args`` follow the program name; output streams into the cell while it runs and is
        kept in the result with the exit code.
        """
        run_key = next((k for k in self.exports if k.split("@")[0] == "wasi:cli/run"), None)
        if run_key is None:
            raise WasmlabError(f"component {self.name} is not a command: it does not export wasi:cli/run",
                               hint="call its exported functions instead")
        self.last_action = lambda: self.run(*args, stdin=stdin, echo=echo)
        if "@0.3" in run_key:  # no WASI 0.3 host in wasmtime-py yet: the wasmtime CLI runs it
            from wasmlab.runtime.wasmtime_command import run_command

            return run_command(self, *args, stdin=stdin, echo=echo)
        if self.grants.network:  # sockets: the wasmtime CLI runs it when wasmtime-py cannot open them
            from wasmlab.runtime.wasmtime_command import run_with_sockets, sockets_need_cli

            if sockets_need_cli(self.grants):
                return run_with_sockets(self, *args, stdin=stdin, echo=echo)
        grants = self.grants.with_args(self.name, *args)
        if stdin is not None:
            grants = grants.with_stdin(stdin)
        instance = self.instantiate(grants=grants, echo=echo)
        exit_code = 0
        try:
            outcome = instance.call((run_key, "run"), self.exports[run_key].interface.functions["run"], (), {})
            exit_code = 1 if getattr(outcome, "tag", "ok") == "err" else 0
        except GuestExit as exc:
            exit_code = exc.code  # WASI 0.2 exits carry ok/err only: err is 1
        finally:
            instance.close()
        return engines.RunResult(exit_code, instance.output.stdout.decode("utf-8", "replace"),
                                 instance.output.stderr_text(), report=self.report())


def _is_toolchain_export(key: str, item: WorldItem) -> bool:
    # componentize-py's pre-initialisation hook: an inline `exports` interface with `init`
    if key != "exports" or item.interface is None or set(item.interface.functions) != {"init"}:
        return False
    return [name for name, _ in item.interface.functions["init"].params] == ["app-name", "symbols", "stub-wasi"]


def _item_lines(item: WorldItem) -> str:
    if item.function is not None:
        return f"  {item.key}: {item.function.signature()}"
    if item.interface is not None:
        funcs = "\n".join(f"      {f.name}: {f.signature()}" for f in item.interface.functions.values())
        return f"  {item.key}\n{funcs}" if funcs else f"  {item.key}"
    return f"  type {item.key}"


class ExportedInterface:
    """An exported interface: its functions are attributes."""

    def __init__(self, component: Component, item: WorldItem):
        self._component = component
        self._item = item
        self._interface: Interface = item.interface

    def _functions(self) -> dict[str, Function]:
        return {_py_name(name): fn for name, fn in self._interface.functions.items() if fn.kind == "freestanding"}

    def _resources(self) -> dict[str, ResourceT]:
        return {_camel(name): ty for name, ty in self._interface.types.items() if isinstance(ty, ResourceT)}

    def __dir__(self):
        return sorted(self._functions()) + sorted(self._resources())

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        resource = self._resources().get(name)
        if resource is not None:
            found = ResourceFactory(self._component, self._item.key, resource)
        else:
            fn = self._functions().get(name)
            if fn is None:
                raise AttributeError(f"{self._item.key} has no function {name!r}; it has: "
                                     f"{', '.join(sorted(self._functions())) or 'none'}")
            found = ExportedFunction(self._component, (self._item.key, fn.name), fn)
        self.__dict__[name] = found  # found directly next time: no lookup per call
        return found

    def __getitem__(self, wit_name: str):
        fn = self._interface.functions.get(wit_name)
        if fn is None:
            raise KeyError(f"{self._item.key} has no function {wit_name!r}")
        return ExportedFunction(self._component, (self._item.key, fn.name), fn)

    def __repr__(self) -> str:
        return _item_lines(self._item).strip()


class ResourceFactory:
    """An exported resource type: call it to construct one; its static functions are attributes."""

    def __init__(self, component: Component, key: str, resource: ResourceT):
        self._component = component
        self._key = key
        self.resource = resource

    def __call__(self, *args, **kwargs):
        ctor = self.resource.constructor
        if ctor is None:
            raise WasmlabError(f"resource {self.resource.name} has no constructor",
                               hint=f"its static functions: {', '.join(self.resource.statics) or 'none'}")
        return ExportedFunction(self._component, (self._key, ctor.name), ctor)(*args, **kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        statics = {_py_name(n): fn for n, fn in self.resource.statics.items()}
        if name not in statics:
            raise AttributeError(f"resource {self.resource.name} has no static function {name!r}")
        fn = statics[name]
        return ExportedFunction(self._component, (self._key, fn.name), fn)

    def __repr__(self) -> str:
        return f"<resource {self.resource.name} of {self._key}>"


def _sockets_need_cli(grants: Grants) -> bool:
    # wasmtime-py cannot open sockets: a call granted them runs in the wasmtime CLI instead
    return grants.network and not sockets_available()


class ExportedFunction:
    """A callable export; calls run in the component's current instance."""

    def __init__(self, component: Component, path: tuple[str, ...], function: Function):
        self._component = component
        self.path = path
        self.function = function

    @property
    def name(self) -> str:
        return "#".join(self.path)

    def __repr__(self) -> str:
        return f"{self.name}: {self.function.signature()}"

    def __call__(self, *args, **kwargs):
        function = self.function
        if function.is_async:  # awaitable inside a running event loop, else blocking
            from wasmlab.runtime.async_calls import call_export

            return call_export(self, args, kwargs)
        component = self._component
        component._last_call = (self, args, kwargs)
        if component.grants.network and _sockets_need_cli(component.grants):
            from wasmlab.runtime.wasmtime_command import call_with_sockets

            return call_with_sockets(component, self.name, *self._positional(args, kwargs))
        instance = component._instance
        if instance is None or instance.poisoned:
            instance = component._default_instance()
        bound = instance._bound.get(self.path) or instance.bound(self.path, function)
        return instance.invoke(bound, args, kwargs)

    def _positional(self, args: tuple, kwargs: dict) -> tuple:
        names = [_py_name(name) for name, _ in self.function.params]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise ArgumentError(f"{self.name} has no parameter {unknown[0]!r}",
                                hint=f"{self.name}: {self.function.signature()}")
        rest = [kwargs[n] for n in names[len(args):] if n in kwargs]
        return (*args, *rest)

    def call_sync(self, *args, **kwargs):
        """Call and block until the result is there, also for an ``async func`` inside a running
        event loop (a notebook cell)."""
        if self.function.is_async:
            from wasmlab.runtime.async_calls import call_export

            return call_export(self, args, kwargs, block=True)
        return self(*args, **kwargs)

    def result(self, *args, **kwargs):
        """Call, returning :class:`~wasmlab.values.Ok` / :class:`~wasmlab.values.Err` for a ``result``
        instead of raising :class:`~wasmlab.errors.GuestError` on ``err``."""
        if self.function.is_async:
            from wasmlab.runtime.async_calls import call_export

            return call_export(self, args, kwargs, result_objects=True)
        self._component._last_call = (self.result, args, kwargs)
        if _sockets_need_cli(self._component.grants):
            from wasmlab.runtime.wasmtime_command import call_with_sockets

            return call_with_sockets(self._component, self.name, *self._positional(args, kwargs), result=True)
        return self._component._default_instance().call(self.path, self.function, args, kwargs,
                                                        result_objects=True)


class Instance:
    """One instantiation of a component in its own store, with its guest output."""

    def __init__(self, component: Component, imports: dict, *, grants: Grants, limits: Limits,
                 stub_missing: bool = False, echo: bool = True):
        self.component = component
        self.grants = grants
        self.limits = limits
        self.output = engines.GuestOutput(echo=echo)
        self.poisoned = False
        self.store = engines.new_store(limits)
        self.fuel_consumed: int | None = None  # by the last call, when it ran with a fuel budget
        self.store.set_wasi(grants.wasi_config(self.output))
        self._fuel = limits.fuel is not None
        self._kind = engines.EngineKind.for_limits(limits)
        compiled = component.compiled(self._kind)
        linker = wc.Linker(engines.engine(self._kind))
        linker.add_wasip2()
        self.meter = usage.UsageMeter()
        self._metered = usage.record_wasi_use(linker, component.imports, grants, self.meter) or bool(grants.dirs)
        self._nothing_metered = (None, grants)
        self._files = usage.watch_files(grants)
        self._watching_files = bool(grants.dirs)
        self._accounting = self._watching_files or self._fuel
        self.guard = engines.StoreGuard(self.store, limits)
        self.host_resources = host_imports.define_host_imports(linker, component, compiled, imports,
                                                           stub_missing=stub_missing)
        try:
            self._instance = linker.instantiate(self.store, compiled)
        except wasmtime.WasmtimeError as exc:
            raise host_imports.link_error(component, imports, exc) from None
        self._funcs: dict[tuple, object] = {}
        self._bound: dict[tuple, codecs.BoundFunction] = {}

    # ---- resources: the binder handles of this instance call back into ----------------------
    def call_method(self, resource: Resource, function: Function, *args, **kwargs):
        return self.call(self.component.resource_path(function), function, (resource, *args), kwargs)

    def drop(self, handle) -> None:
        if not self.poisoned:
            handle.drop(self.store)

    def close(self) -> None:
        """Free the store now (an exited or trapped guest's resources go with it)."""
        self.poisoned = True
        self._funcs.clear()
        self._files.close()
        self.store.close()

    def _func(self, path: tuple[str, ...]):
        func = self._funcs.get(path)
        if func is None:
            index = self.component.export_index(*path, kind=self._kind)
            func = self._instance.get_func(self.store, index) if index is not None else None
            if func is None:
                raise WasmlabError(f"the component has no exported function {'#'.join(path)}")
            self._funcs[path] = func
        return func

    def bound(self, path: tuple[str, ...], function: Function) -> codecs.BoundFunction:
        """The export at ``path`` as a callable with converters built once (cached)."""
        bound = self._bound.get(path)
        if bound is None:
            from wasmlab.runtime.async_calls import AsyncBoundFunction

            kind = AsyncBoundFunction if function.is_async else codecs.BoundFunction
            bound = kind(self.store, self._func(path), function, name="#".join(path), binder=self)
            self._bound[path] = bound
        return bound

    def call(self, path: tuple[str, ...], function: Function, args: tuple, kwargs: dict, *,
             result_objects: bool = False):
        """Call the export at ``path`` in this instance with Python values."""
        if function.is_async:
            from wasmlab.runtime.async_calls import call_blocking

            return call_blocking(self, path, function, args, kwargs, result_objects=result_objects)
        if self.poisoned:
            raise self._poisoned_error()
        bound = self._bound.get(path) or self.bound(path, function)
        return self.invoke(bound, args, kwargs, result_objects)

    @staticmethod
    def _poisoned_error() -> WasmlabError:
        return WasmlabError("this instance trapped earlier and cannot be used again",
                            hint="call through the component (it starts a fresh instance) or instantiate() anew")

    def invoke(self, bound: codecs.BoundFunction, args: tuple, kwargs: dict, result_objects: bool = False):
        """One sync call of a bound export: under this instance's limits, metered, its failures explained."""
        if self.poisoned:
            raise self._poisoned_error()
        mark = len(self.output.stderr)
        if self._fuel:
            self.store.set_fuel(self.limits.fuel)  # every call gets the whole budget
        if self._metered:
            used = self.meter.start()
            self.component._last_usage = (used, self.grants)
        else:  # nothing this instance could count: no fresh record per call
            used = None
            self.component._last_usage = self._nothing_metered
        self.host_resources.context = self.store  # for handles to Python-implemented resources
        guard = self.guard
        quick = guard.enter()
        try:
            try:
                return bound.call(args, kwargs, result_objects)
            finally:
                if self._accounting:
                    self._account(used)
                if not quick:
                    guard.exit()  # raises KeyboardInterrupt for a Ctrl-C it held back
        except wasmtime.ExitTrap as exc:
            self.poisoned = True  # the guest ended itself with wasi:cli/exit
            raise GuestExit(exc.code, function=bound.name) from None
        except wasmtime.WasmtimeError as exc:
            raise self.failure(exc, bound.name, mark, guard, used) from None
        except (KeyboardInterrupt, host_imports.HostError):
            self.poisoned = True  # stopped mid-call: the next call gets a fresh instance
            raise

    def _account(self, used) -> None:
        if self._watching_files:
            used.merge_files(self._files.drain())
        if self._fuel:
            self.fuel_consumed = self.limits.fuel - self.store.get_fuel()
            self.component._last_fuel = self.fuel_consumed

    def failure(self, exc: wasmtime.WasmtimeError, name: str, stderr_mark: int, guard, used) -> Exception:
        """What a call that wasmtime stopped raises: the trap, explained, with the grant that
        would have allowed it when a refusal caused it.  Retires this instance."""
        self.poisoned = True
        stderr = self.output.stderr[stderr_mark:].decode("utf-8", errors="replace")
        if used is None:
            used = usage.Usage()
            self.component._last_usage = (used, self.grants)
        used.note_guest_errors(stderr, self.grants)
        trap = engines.trap_from(exc, function=name, stderr=stderr, limits=self.limits, guard=guard)
        denial = denial_hint(self.grants, stderr, used)
        if denial and isinstance(trap, WasmlabError):
            trap.hint = denial
        return trap


def load(source: str | os.PathLike | bytes, *, name: str | None = None, imports: dict | None = None) -> Component:
    """A component from a ``.wasm`` file, a ``.wat`` file or bytes (a copy goes to the cache)."""
    from wasmlab.toolchain.builders import world_of_wasm

    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        default_name = "component"
    else:
        path = Path(source)
        if not path.is_file():
            raise LoadError(f"{path}: no such file")
        data = path.read_bytes()
        default_name = path.stem
        if path.suffix == ".wat":
            from wasmlab.toolchain.builders import build_wat

            result = build_wat(data.decode("utf-8"), origin=str(path), progress=False)
            return Component(name or default_name, result.wasm_path, result.meta, result.entry,
                             cached=result.cached, imports=imports)
    if data[:4] != b"\0asm":
        raise LoadError("not a WebAssembly binary (it does not start with \\0asm)",
                        hint="a .wat text file can be loaded by its path")
    if data[4:8] == b"\x01\x00\x00\x00":
        raise LoadError("this is a core WebAssembly module, not a component",
                        hint="run core modules with wasmlab.load_module; components come from builds")
    key = cache.input_key(kind="load", wasm=hashlib.sha256(data).hexdigest())
    entry = cache.lookup(key)
    cached = entry is not None
    if entry is None:
        from wasmlab.errors import BuildError

        try:
            meta = world_of_wasm(data)
        except BuildError as exc:
            raise LoadError("not a valid component", detail=exc.detail) from None
        entry = cache.store(key, data, {"kind": "load", **meta})
    return Component(name or default_name, entry.wasm, entry.meta, entry, cached=cached, imports=imports)
