"""The notebook's component object: inspect it, call its exports as Python attributes.

``Component`` is what builds and loads return.  It displays its world (imports grouped into
capabilities, exports with signatures, the WIT).  Its exports are attributes with Python names
(``shop.pricing.total(items, "gold")``) and are also reachable by their full WIT names
(``shop["acme:shop/pricing@0.1.0"]["total"]``, ``shop.export("pricing#total")``).

Item access is the unambiguous one: ``app["run"]`` is always the export ``run``, while
``app.run`` is the component's own method.  An export named like one of the component's own
attributes (``run``, ``call``, ``name``, ...) is only reachable by item access; the summary
lists such exports, and the colliding methods name item access when they are misused.

Calls run in an instance the component keeps; a trap discards it, so the next call gets a
fresh one.  ``instantiate()`` gives instances of your own.

Threads: a store runs one call at a time.  Each instance has a lock that every call into it
takes, so calls from several threads take turns in the component's one instance: they see one
state, as in a program without threads, and a trap in one thread gives the next call a fresh
instance.  For calls that run in parallel, give each thread an instance of its own
(``instantiate()``).  An ``async func`` call that starts while the instance is busy gets a spare
instance instead of waiting (see :mod:`wasmlab.runtime.async_calls`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from wasmlab import views
from wasmlab.capabilities import CAPABILITIES, Grants, Limits, Sandboxed, denial_hint, group_imports
from wasmlab.errors import ArgumentError, FileError, GuestExit, LoadError, UnknownAttribute, UnknownExport, WasmlabError
from wasmlab.runtime import capi, codecs, engines, host_imports, usage, wasmtime_command
from wasmlab.toolchain import cache, tools
from wasmlab.values import Resource, class_name, py_name
from wasmlab.views import Displayable
from wasmlab.wittypes import Function, Interface, Resolve, ResourceT, World, WorldItem

__all__ = ["Component", "Instance", "load"]


def _short(key: str) -> str:
    """``acme:shop/pricing@0.1.0`` -> ``pricing``; plain names stay."""
    return key.split("/")[-1].split("@")[0] if "/" in key else key


class Component(Sandboxed, Displayable):
    """A WebAssembly component: its world, its exports as callables, its instances.

    Safe to call from several threads: calls take turns in its one instance (a lock per store);
    ``instantiate()`` one instance per thread to run them in parallel.
    """

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
        self._instance_lock = threading.Lock()  # two threads replacing a trapped instance make one
        self._compile_lock = threading.Lock()
        self._engines: dict[str, object] = {}  # other engines running this component (engine())
        self._export_indexes: dict[tuple, wc.ExportIndex | None] = {}
        self._grants = Grants()
        self._limits = Limits()
        self._last_fuel: int | None = None
        self._last_usage = None  # (Usage, Grants) of the last call or run
        self._last_call: tuple | None = None  # (callable, args, kwargs): see last_action
        self.async_spares: list[Instance] = []  # instances for async calls made while the default one was busy

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
        shadowed = self.shadowed_exports
        if shadowed:
            lines.append(f"named like {self.name}'s own attributes, so reachable only by item access: "
                         + ", ".join(f'{self.name}["{n}"]' for n in shadowed))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    # ---- running ----------------------------------------------------------------------
    def compiled(self, kind: engines.EngineKind = engines.EngineKind()) -> wc.Component:
        """The compiled component for an engine ``kind``; cached on disk."""
        compiled = self._compiled.get(kind)
        if compiled is None:
            with self._compile_lock:  # threads instantiating at once share one compiled component
                compiled = self._compiled.get(kind)
                if compiled is None:
                    compiled = self._compiled[kind] = engines.compile_component(
                        self.wasm_path, entry=self._entry, kind=kind, title=f"loading {self.name}")
        return compiled

    def instantiate(self, imports: dict | None = None, *, grants: Grants | None = None,
                    limits: Limits | None = None, stub_missing: bool = False, echo: bool = True) -> "Instance":
        """A new instance in a store of its own.

        ``imports`` implements non-WASI imports in Python: ``{"ns:pkg/iface@v" or "iface":
        object-or-dict-of-functions, "root-func": function}``.  With ``stub_missing`` any import
        left over traps when called instead of failing to link.  ``grants`` and ``limits``
        default to the component's own (nothing granted, no limits).
        """
        merged = {**self.host_imports, **(imports or {})}
        grants = self.grants if grants is None else Grants.checked(grants)
        limits = self.limits if limits is None else Limits.checked(limits)
        return Instance(self, merged, grants=grants, limits=limits, stub_missing=stub_missing, echo=echo)

    def _sandbox_changed(self) -> None:
        self.reset()  # new grants or limits: a fresh instance

    def _default_instance(self) -> "Instance":
        instance = self._instance
        if instance is None or instance.poisoned:
            with self._instance_lock:
                instance = self._instance
                if instance is None or instance.poisoned:
                    instance = self._instance = self.instantiate()
        return instance

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
            names.setdefault(py_name(_short(key)), item)
        return names

    @functools.cached_property
    def shadowed_exports(self) -> list[str]:
        """Exports named like one of the component's own attributes (``run``, ``call``, ...):
        ``app.run`` is the method, ``app["run"]`` the export."""
        own = {n for n, v in vars(self).items() if not isinstance(v, (ExportedFunction, ExportedInterface))}
        # a WASI export (wasi:cli/run, wasi:http/handler) is what the methods of its name run
        return sorted(name for name, item in self._namespace.items()
                      if (hasattr(type(self), name) or name in own) and not item.key.startswith("wasi:"))

    def _shadowed(self, name: str) -> WasmlabError | None:
        """The error for a method used as if it were the export of the same name, if there is one."""
        if name not in self._namespace:
            return None
        return WasmlabError(f"`{name}` is also an export of {self.name}: call it as {self.name}[\"{name}\"](...)",
                            hint=f"{self.name}.{name} is the component's own method; item access always "
                                 f"means an export")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._namespace))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        item = self._namespace.get(name)
        if item is None:
            raise UnknownAttribute(f"component {self.name} exports no {name!r}",
                                   hint=f"it exports: {', '.join(sorted(self._namespace)) or 'nothing'}")
        bound = self.__dict__[name] = self._bind(item)  # found directly next time: no lookup per call
        return bound

    def __getitem__(self, key: str):
        item = self.exports.get(key) if isinstance(key, str) else None
        if item is None and isinstance(key, str):
            item = next((i for k, i in self.exports.items() if _short(k) == key), None)
        if item is None:
            raise UnknownExport(f"component {self.name} has no export {key!r}",
                                hint=f"its exports: {', '.join(self.exports) or 'none'}")
        return self._bind(item)

    def __contains__(self, key) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def _bind(self, item: WorldItem):
        if item.function is not None:
            return ExportedFunction(self, (item.key,), item.function)
        return ExportedInterface(self, item)

    def export(self, target: str) -> "ExportedFunction":
        """An export by ``func``, ``iface#func`` or ``ns:pkg/iface@ver#func``."""
        if not isinstance(target, str):  # export(4): the export named `export` called as the method
            raise self._shadowed("export") or ArgumentError(
                f"an export is named by a str, not {type(target).__name__}: {target!r:.60}",
                hint="exported functions: " + ", ".join(self._function_names()))
        iface, sep, func = target.rpartition("#")
        if sep and (not iface or not func or "#" in iface):
            raise self._no_function(target)
        if not sep:
            item = self.exports.get(target)
            if item is None:  # as wasmtime --invoke: a function name unique among the exported interfaces
                found = [(k, i) for k, i in self.user_exports.items()
                         if i.interface is not None and target in i.interface.functions]
                if len(found) == 1:
                    return self[found[0][0]][target]
            if item is None or item.function is None:
                raise self._no_function(target)
            return ExportedFunction(self, (item.key,), item.function)
        if iface not in self:
            raise self._no_function(target, f"{iface!r} is no exported interface")
        if not isinstance(self[iface], ExportedInterface):
            raise self._no_function(target, f"{iface!r} is a function, not an interface")
        bound = self[iface]
        if func not in bound._interface.functions:
            raise self._no_function(target, f"{bound._item.key} has no function {func!r}")
        return bound[func]

    def _no_function(self, target: str, why: str = "") -> UnknownExport:
        return UnknownExport(f"component {self.name} has no exported function {target!r}" + (f": {why}" if why else ""),
                             hint="exported functions: " + (", ".join(self._function_names()) or "none"))

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
        if not isinstance(target, str):  # call(1, 2): the export named `call` called as the method
            raise self._shadowed("call") or ArgumentError(f"call() takes an export's name first, got {target!r}")
        return self.export(target)(*args, **kwargs)

    def push(self, reference: str, *, annotations: dict | None = None, **options):
        """Push the component to an OCI registry as a Wasm artifact; returns the reference pinned to
        the pushed digest (``options``: ``insecure``, ``auth``, ``token``; see
        :func:`wasmlab.toolchain.registry.push`)."""
        from wasmlab.toolchain import registry

        return registry.push(self.wasm, reference, imports=list(self.imports), exports=list(self.exports),
                             annotations=annotations, **options)
    def engine(self, name: str = "wasmtime"):
        """The component under another engine: ``"node"`` runs its exports in Node's V8 (jco +
        preview2-shim; see :mod:`wasmlab.runtime.node_engine`), ``"wasmtime"`` is the component itself."""
        if name == "wasmtime":
            return self
        if name == "node":
            from wasmlab.runtime.node_engine import NodeEngine

            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = NodeEngine(self)
            return engine
        raise WasmlabError(f"unknown engine {name!r}", hint="engines: wasmtime, node")

    def transpile(self, out_dir: str | os.PathLike) -> Path:
        """``jco transpile``: this component as an ES module in ``out_dir``; returns the module's path."""
        from wasmlab.toolchain.javascript import transpile

        if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
            raise ArgumentError(f"transpile: `out_dir` must be a folder's path (str or pathlib.Path), not "
                                f"{out_dir!r}", hint=f"{self.name}.transpile('{self.name}-js')")
        try:
            return transpile(self.wasm_path, out_dir, name=self.name)
        except OSError as exc:  # a folder that cannot be made or written
            where = f"{exc.filename}: " if exc.filename and str(exc.filename) != str(out_dir) else ""
            raise FileError(f"cannot write the ES module to {out_dir}: {where}{exc.strerror or exc}",
                            hint="give a folder you can write") from None

    def run(self, *args: str, stdin: str | bytes | None = None, echo: bool = True) -> engines.RunResult:
        """Run a command component (one exporting ``wasi:cli/run``) in a fresh instance.

        ``args`` follow the program name; output streams into the cell while it runs and is
        kept in the result with the exit code.
        """
        run_key = next((k for k in self.exports if k.split("@")[0] == "wasi:cli/run"), None)
        if run_key is None:
            raise self._shadowed("run") or WasmlabError(
                f"component {self.name} is not a command: it does not export wasi:cli/run",
                hint="call its exported functions instead")
        self.last_action = lambda: self.run(*args, stdin=stdin, echo=echo)
        if "@0.3" in run_key:  # no WASI 0.3 host in wasmtime-py yet: the wasmtime CLI runs it
            return wasmtime_command.run_command(self, *args, stdin=stdin, echo=echo)
        if wasmtime_command.needs_cli(self):  # wasi:http, or sockets wasmtime-py cannot open
            return wasmtime_command.run_in_cli(self, *args, stdin=stdin, echo=echo)
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
        return {py_name(name): fn for name, fn in self._interface.functions.items() if fn.kind == "freestanding"}

    def _resources(self) -> dict[str, ResourceT]:
        return {class_name(name): ty for name, ty in self._interface.types.items() if isinstance(ty, ResourceT)}

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
                known = sorted(self._functions()) + sorted(self._resources())
                raise UnknownAttribute(f"{self._item.key} has no function {name!r}",
                                       hint=f"it has: {', '.join(known) or 'nothing'}")
            found = ExportedFunction(self._component, (self._item.key, fn.name), fn)
        self.__dict__[name] = found  # found directly next time: no lookup per call
        return found

    def __getitem__(self, wit_name: str):
        fn = self._interface.functions.get(wit_name) if isinstance(wit_name, str) else None
        if fn is None:
            raise UnknownExport(f"{self._item.key} has no function {wit_name!r}",
                                hint=f"its functions: {', '.join(self._interface.functions) or 'none'}")
        return ExportedFunction(self._component, (self._item.key, fn.name), fn)

    def __contains__(self, wit_name) -> bool:
        return isinstance(wit_name, str) and wit_name in self._interface.functions

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
        statics = {py_name(n): fn for n, fn in self.resource.statics.items()}
        if name not in statics:
            raise UnknownAttribute(f"resource {self.resource.name} has no static function {name!r}",
                                   hint=f"its static functions: {', '.join(statics) or 'none'}")
        fn = statics[name]
        return ExportedFunction(self._component, (self._key, fn.name), fn)

    def __repr__(self) -> str:
        return f"<resource {self.resource.name} of {self._key}>"


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
        if wasmtime_command.needs_cli(component):
            return wasmtime_command.call_in_cli(component, self.name, *self._positional(args, kwargs))
        instance = component._instance
        if instance is None or instance.poisoned:
            instance = component._default_instance()
        bound = instance._bound.get(self.path) or instance.bound(self.path, function)
        try:
            return instance.invoke(bound, args, kwargs)
        except _Retired:  # another thread's call trapped in it while this one waited: call again
            return self(*args, **kwargs)

    def _positional(self, args: tuple, kwargs: dict) -> tuple:
        return codecs.positional(self.name, self.function, args, kwargs)

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
        if wasmtime_command.needs_cli(self._component):
            return wasmtime_command.call_in_cli(self._component, self.name, *self._positional(args, kwargs),
                                                result=True)
        try:
            return self._component._default_instance().call(self.path, self.function, args, kwargs,
                                                            result_objects=True)
        except _Retired:  # another thread's call trapped in it while this one waited
            return self.result(*args, **kwargs)


class _Retired(WasmlabError):
    """A call found its instance retired by a trap (perhaps another thread's) before it started."""


class Instance:
    """One instantiation of a component in its own store, with its guest output."""

    def __init__(self, component: Component, imports: dict, *, grants: Grants, limits: Limits,
                 stub_missing: bool = False, echo: bool = True):
        self.component = component
        self.grants = grants
        self.limits = limits
        self.output = engines.GuestOutput(echo=echo)
        self.poisoned = False
        self._lock = threading.Lock()  # one call at a time in the store (see Component)
        self._owner = None  # the thread holding it; (_ASYNC, thread) while an async call runs
        self.epoch_key: int | None = None  # its key for the async calls' epoch callback, once it has one
        self.store = engines.new_store(limits)
        self.fuel_consumed: int | None = None  # by the last call, when it ran with a fuel budget
        self.store.set_wasi(capi.wasi_config(grants, self.output))
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
        with self._entered():
            if not self.poisoned:
                handle.drop(self.store)

    def close(self) -> None:
        """Free the store now (an exited or trapped guest's resources go with it)."""
        with self._entered():
            self.poisoned = True
            self._funcs.clear()
            self._files.close()
            self.store.close()

    # ---- one call at a time in the store ------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Whether a call runs in this instance now."""
        return self._lock.locked()

    def claim(self) -> bool:
        """Take the store for an async call if it is free (True); :meth:`release` it after."""
        if self._lock.acquire(False):
            self._owner = (_ASYNC, threading.get_ident())
            return True
        return False

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def _enter(self, *, calling: bool = True) -> bool:
        """Wait for the store; False when this thread holds it already (a host import calling
        back in: the call goes ahead, as without threads; or, when not ``calling`` Wasm, the
        async call this thread started)."""
        if self._lock.acquire(False):
            self._owner = _get_ident()
            return True
        me = _get_ident()
        owner = self._owner
        if owner == me or (not calling and owner == (_ASYNC, me)):
            return False
        if owner == (_ASYNC, me):  # waiting would block the event loop that ends it
            raise WasmlabError(f"an async call is running in this instance of {self.component.name}",
                               hint="await it first, or call through the component "
                                    "(concurrent async calls get instances of their own)")
        self._lock.acquire()
        self._owner = me
        return True

    @contextlib.contextmanager
    def _entered(self):
        entered = self._enter(calling=False)
        try:
            yield
        finally:
            if entered:
                self.release()

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
            with self._entered():  # finding the function reads the store
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
        return _Retired("this instance trapped earlier and cannot be used again",
                            hint="call through the component (it starts a fresh instance) or instantiate() anew")

    def invoke(self, bound: codecs.BoundFunction, args: tuple, kwargs: dict, result_objects: bool = False):
        """One sync call of a bound export: under this instance's limits, metered, its failures explained.
        Calls from other threads wait for it to end (a store runs one call at a time)."""
        lock = self._lock
        if lock.acquire(False):
            self._owner = _get_ident()
            held = True
        else:  # waits for another thread's call; False: this thread's own (a host import calling back in)
            held = self._enter()
        try:
            if self.poisoned:  # perhaps by a call of another thread while this one waited
                raise self._poisoned_error()
            mark = len(self.output.stderr)
            used = self.begin_call()
            self.host_resources.context = self.store  # for handles to Python-implemented resources
            guard = self.guard
            quick = guard.enter()
            try:
                try:
                    return bound.call(args, kwargs, result_objects)
                finally:
                    if self._accounting:
                        self.end_call(used)
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
        finally:
            if held:
                self._owner = None
                lock.release()

    def begin_call(self):
        """Before a call (sync or async): the whole fuel budget again, and a fresh usage record
        (None when this instance meters nothing)."""
        if self._fuel:
            self.store.set_fuel(self.limits.fuel)  # every call gets the whole budget
        if self._metered:
            used = self.meter.start()
            self.component._last_usage = (used, self.grants)
            return used
        self.component._last_usage = self._nothing_metered  # nothing to count: no fresh record per call
        return None

    def end_call(self, used, *, fuel: bool = True) -> None:
        """After a call: the files it touched go into ``used``, the fuel it consumed is kept
        (``fuel=False``: the store was abandoned midway)."""
        if self._watching_files:
            used.merge_files(self._files.drain())
        if self._fuel and fuel:
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


_ASYNC = "async"
_get_ident = threading.get_ident


def load(source: str | os.PathLike | bytes, *, name: str | None = None, imports: dict | None = None,
         **pull_options) -> Component:
    """A component from a ``.wasm`` file, a ``.wat`` file, bytes (a copy goes to the cache), or a
    registry reference ``oci://HOST/REPO:TAG`` / ``@sha256:...`` (``pull_options``: ``insecure``,
    ``auth``, ``token``, ``timeout``; see :func:`wasmlab.toolchain.registry.pull`)."""
    from wasmlab.toolchain import registry
    from wasmlab.toolchain.builders import world_of_wasm

    if registry.is_reference(source):
        pulled = registry.pull(source, **pull_options)
        name, source = name or pulled.reference.name, pulled.wasm
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        default_name = "component"
    else:
        path = Path(source)
        if not path.is_file():
            if isinstance(source, str) and tools.looks_like_wat(source):
                raise LoadError("load takes a path or bytes, not WAT text",
                                hint="build WAT text with wasmlab.build(wat=...) (or load_module for a core module)")
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
