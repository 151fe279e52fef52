"""Calling ``async func`` exports (the Component Model's native async, WASI 0.3's base).

wasmtime refuses to call an async-lifted export synchronously; it is started with
``wasmtime_component_func_call_async`` and driven by polling the returned call future until
it is ready.  An awaited call is polled on a worker thread, so the event loop (the notebook's)
keeps running while the guest computes, and calls in separate stores run in parallel.

How an async export reads from Python::

    await comp.double(21)               # in a notebook cell (IPython allows top-level await)
    comp.double(21)                     # in plain code without a running event loop: blocks
    comp.double.call_sync(21)           # blocks, also inside a running event loop
    await asyncio.gather(comp.double(1), comp.double(2))   # both in flight at once

A store runs one call at a time, so a call that starts while the component's own instance is
busy gets an instance of its own.  A call runs under the component's limits (``timeout``, the
kernel's stop button); each store's epoch callback stops only its own call.  A trap, an
interrupt or a cancelled call throws its store away, so the next call starts fresh.

Streams, futures and error contexts never cross into Python: wasmtime's C API aborts the whole
process when one reaches the host, so such functions are refused before the call (see
:func:`wasmlab.runtime.codecs.refuse_streams`); a driver component keeps them inside a composition.
"""

from __future__ import annotations

import asyncio
import collections.abc
import concurrent.futures
import contextlib
import contextvars
import itertools
import signal
import threading
import time

import wasmtime

from wasmlab.errors import GuestExit, Trap, WasmlabError
from wasmlab.runtime import capi, codecs, engines, host_imports

__all__ = ["AsyncBoundFunction", "PendingCall", "call_export", "call_async", "call_blocking", "loop_is_running",
           "streams_of_import"]


class AsyncBoundFunction(codecs.BoundFunction):
    """An ``async func`` export of one instance: checked and lowered like a sync one, started
    with ``call_async`` and completed by :meth:`poll`."""

    allows_async = True

    def start(self, *args, **kwargs) -> "_CallFuture":
        checked = self._arguments(args, kwargs)
        return _CallFuture(self, checked)

    def __call__(self, *args, result_objects: bool = False, **kwargs):
        call = self.start(*args, **kwargs)
        while not call.poll():
            time.sleep(0.0005)
        return call.value(result_objects=result_objects)


class _CallFuture:
    """One async call in flight: wasmtime's call future with the values it reads and writes."""

    def __init__(self, bound: AsyncBoundFunction, checked: list):
        self.bound = bound
        self.params = capi.ValSlots(len(checked))
        for i, ((_, c), v) in enumerate(zip(bound.params, checked)):
            c.lower(v, self.params[i])
        self.results = capi.ValSlots(1 if bound.result is not None else 0)
        self.future = capi.CallFuture(bound.func, bound.store, self.params, self.results)
        self.done = False
        if not self.future.started:  # refused before it started: the error says why
            self._finish()

    def poll(self) -> bool:
        """Run the call until it finishes or waits; True once finished (never poll again then:
        polling a finished call future aborts the process)."""
        if self.done:
            return True
        if self.future.poll():
            self._finish()
        return self.done

    def _finish(self) -> None:
        self.done = True
        self.future.delete()
        self.params.free(self.bound.frees)

    def cancel(self) -> None:
        """Drop a call still in flight; its store must not be used afterwards."""
        if not self.done:
            self._finish()

    def value(self, *, result_objects: bool = False):
        self.future.raise_error()
        bound = self.bound
        if not self.results.n:
            return None
        try:
            value = bound.result.lift(self.results[0])
        finally:
            self.results.free((0,))
        return bound.returned(value, result_objects)


def loop_is_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def call_export(exported, args, kwargs, *, result_objects: bool = False, block: bool | None = None):
    """What calling an async export returns: a :class:`PendingCall` to await inside a running
    event loop, else (or with ``block=True``) the value, after blocking until the call is done."""
    component = exported._component
    codecs.refuse_streams(exported.function, exported.name)  # at the call site, not only when awaited
    component.last_action = lambda: call_export(exported, args, kwargs, result_objects=result_objects, block=True)
    if block is None:
        block = not loop_is_running()
    if not block:
        return PendingCall(exported, args, kwargs, result_objects)
    instance = _idle_instance(component)
    return call_blocking(instance, exported.path, exported.function, args, kwargs, result_objects=result_objects,
                         claimed=True)


def _idle_instance(component):
    """The component's own instance if no call is running in it, else a spare of the same
    grants and limits (a store runs one call at a time); claimed for the caller
    (``Instance.claim``), so that no other thread takes it meanwhile."""
    while True:
        instance = component._default_instance()
        if not instance.claim():
            break
        if not instance.poisoned:
            return instance
        instance.release()  # trapped just now: the next round makes a fresh one
    with component._instance_lock:
        spares = component.async_spares
        spares[:] = [s for s in spares
                     if not s.poisoned and s.grants is component.grants and s.limits is component.limits]
        for spare in spares:
            if spare.claim():
                return spare
        spare = component.instantiate()
        spare.claim()
        spares.append(spare)
        return spare


async def call_async(instance, path, function, args, kwargs, *, result_objects: bool = False, claimed=False):
    """Call an async export in ``instance``; a worker thread polls it, so the event loop (the
    notebook's) stays free however long the guest computes, and calls in separate stores run
    in parallel.  ``claimed``: the caller claimed the instance (see ``_idle_instance``)."""
    with running(instance, "#".join(path), claimed=claimed) as run:
        bound = instance.bound(path, function)
        with _stoppable(instance, bound.name) as stop:
            run.guard = stop
            call = bound.start(*args, **kwargs)
            work = _pollers.submit(contextvars.copy_context().run, _poll_to_end, call)
            try:
                await asyncio.wrap_future(work)
            except BaseException:  # cancelled or interrupted while the guest runs: stop it first
                stop.interrupted = True
                engines._interrupt_engines()
                concurrent.futures.wait([work])
                raise
            work.result()
            return call.value(result_objects=result_objects)


_pollers = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="wasmlab-async")


def _poll_to_end(call) -> None:
    while not call.poll():
        time.sleep(0.0005)  # waiting on something outside Wasm: do not spin


def call_blocking(instance, path, function, args, kwargs, *, result_objects: bool = False, claimed=False):
    """The same call, blocking until it finishes (plain scripts, ``call_sync``, the CLI)."""
    with running(instance, "#".join(path), claimed=claimed) as run:
        bound = instance.bound(path, function)
        with _stoppable(instance, bound.name) as stop, _quiet_sigint(stop):
            run.guard = stop
            call = bound.start(*args, **kwargs)
            try:
                while not call.poll():
                    if stop.interrupted:  # waiting, not running: no epoch check will come
                        raise KeyboardInterrupt(f"Wasm interrupted in {bound.name}")
                    time.sleep(0.0005)
            except BaseException:
                call.cancel()
                raise
            return call.value(result_objects=result_objects)


@contextlib.contextmanager
def _quiet_sigint(stop: _Stop):
    """While a blocking call polls on the main thread, Ctrl-C marks the call stopped instead of
    raising at once: the raise could otherwise land inside the epoch callback that wasmtime runs
    on this thread.  The call then ends with KeyboardInterrupt itself."""
    if threading.current_thread() is not threading.main_thread() or not stop.interruptible:
        yield
        return

    def on_sigint(_signum, _frame):
        stop.interrupted = True  # the interrupt watcher moves the epoch

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)




# ---- stopping a call: its own time limit, Ctrl-C, cancellation -----------------------------------
#
# A time limit or an interrupt bumps the engine's epoch, which every store on the engine sees.
# Stores running async calls get a deadline callback that traps only when *their* call was
# stopped, so concurrent calls do not take each other down.

class _Stop:
    """Why a call was stopped, if it was (read by ``engines.trap_from`` as a guard)."""

    expired = False
    interrupted = False
    interruptible = True

    def expire(self) -> None:
        self.expired = True


_stops: dict[int, _Stop] = {}  # store key -> the stop of the call running in it
_store_keys = itertools.count(1)
_CONTINUE = 0


@capi.epoch_callback_t
def _on_epoch(_context, key, delta, kind):  # type: ignore[misc]
    stop = _stops.get(key or 0)
    if stop is not None and not (stop.expired or stop.interrupted):
        delta[0] = 1
        kind[0] = _CONTINUE
        return 0
    return capi.trap_error(b"wasm trap: interrupt")


def _store_key(instance) -> int:
    key = instance.epoch_key
    if key is None:
        key = next(_store_keys)
        capi.epoch_deadline_callback(instance.store, _on_epoch, key)
        instance.epoch_key = key
        instance.guard.quiet_sigint = True  # sync calls in this store must not raise inside the callback
    return key


@contextlib.contextmanager
def _stoppable(instance, name: str):
    """A call that stops at ``instance.limits.timeout``, on Ctrl-C, and when cancelled."""
    stop = _Stop()
    limits = instance.limits
    if not limits.interruptible:
        stop.interruptible = False
        yield stop
        return
    key = _store_key(instance)
    _stops[key] = stop
    instance.store.set_epoch_deadline(1)
    try:
        with _interrupts(stop):
            if limits.timeout is not None:
                engines._time_limits().start(stop, limits.timeout, stop.expire)
            yield stop
    finally:
        if limits.timeout is not None:
            engines._time_limits().end(stop)
        _stops.pop(key, None)
        if not instance.poisoned:
            instance.store.set_epoch_deadline(engines._NO_DEADLINE)
            instance.guard.disarm()


class _InFlight:
    """What the interrupt watcher marks on Ctrl-C: every async call running."""

    def __init__(self):
        self.stops: set[_Stop] = set()

    @property
    def interrupted(self) -> bool:
        return any(s.interrupted for s in self.stops)

    @interrupted.setter
    def interrupted(self, value: bool) -> None:
        for stop in list(self.stops):
            stop.interrupted = value


_in_flight = _InFlight()


@contextlib.contextmanager
def _interrupts(stop: _Stop):
    """Ctrl-C reaches the guest while any async call runs (one watcher for all of them)."""
    on_main = threading.current_thread() is threading.main_thread()
    if not on_main:
        yield
        return
    engines.watch_interrupts()
    watcher = engines._watcher()
    _in_flight.stops.add(stop)
    watcher.guard = _in_flight
    try:
        yield
    finally:
        _in_flight.stops.discard(stop)
        if not _in_flight.stops and watcher.guard is _in_flight:
            watcher.guard = None


class _Run:
    guard = None


@contextlib.contextmanager
def running(instance, name: str, *, claimed: bool = False):
    """One call in ``instance``: claims its store (unless the caller did), meters what it uses,
    and turns what wasmtime raises into wasmlab's errors; anything that stops a call midway
    retires the instance."""
    if not claimed and not instance.claim():
        raise WasmlabError(f"a call is already running in this instance of {instance.component.name}",
                           hint="call through the component: concurrent calls get instances of their own")
    try:
        if instance.poisoned:
            raise instance._poisoned_error()
        with _metered(instance, name) as run:
            yield run
    finally:
        instance.release()


@contextlib.contextmanager
def _metered(instance, name: str):
    run = _Run()
    mark = len(instance.output.stderr)
    used = instance.begin_call()
    try:
        yield run
    except wasmtime.ExitTrap as exc:
        instance.poisoned = True
        raise GuestExit(exc.code, function=name) from None
    except wasmtime.WasmtimeError as exc:
        trap = instance.failure(exc, name, mark, run.guard, used)
        stderr = instance.output.stderr[mark:].decode("utf-8", errors="replace")
        if "has no attribute '_async_start_" in stderr and isinstance(trap, WasmlabError):
            trap.hint = ("componentize-py runs an async export through the generated base class: "
                         "subclass it (class WitWorld(wit_world.WitWorld), class Tasks(exports.Tasks))")
        raise trap from None
    except (KeyboardInterrupt, asyncio.CancelledError, host_imports.HostError, Trap):
        instance.poisoned = True  # stopped midway: the next call gets a fresh instance
        raise
    finally:
        instance.end_call(used, fuel=not instance.poisoned)


async def _call_on_idle(exported, args, kwargs, result_objects):
    # the instance is chosen and marked busy with no await in between: concurrent calls
    # started together each get their own
    instance = _idle_instance(exported._component)
    return await call_async(instance, exported.path, exported.function, args, kwargs, result_objects=result_objects,
                            claimed=True)


class PendingCall(collections.abc.Coroutine):
    """An async export called inside a running event loop: ``await`` it, or hand it to
    ``asyncio.create_task`` / ``asyncio.gather``; ``.call_sync`` on the function blocks instead.

    Nothing starts until it is awaited (or its task runs), like a coroutine.
    """

    def __init__(self, function, args, kwargs, result_objects: bool):
        self._function = function
        self._args = args
        self._kwargs = kwargs
        self._result_objects = result_objects
        self._coroutine = None

    def _started(self):
        if self._coroutine is None:
            self._coroutine = _call_on_idle(self._function, self._args, self._kwargs, self._result_objects)
        return self._coroutine

    def send(self, value):
        return self._started().send(value)

    def throw(self, *exc_info):
        return self._started().throw(*exc_info)

    def close(self) -> None:
        if self._coroutine is not None:
            self._coroutine.close()

    def __await__(self):
        return self._started().__await__()

    def __repr__(self) -> str:
        state = "started" if self._coroutine is not None else "not started: await it, or use .call_sync(...) to block"
        return f"<async call {self._function.name}(...): {state}>"


def streams_of_import(composition, node, import_name: str) -> list[str]:
    """The stream and future types an instance's import carries (``stream<u8>``, ...), read
    from the WAC types of its package: what a composition picture labels its edges with."""
    from wasmlab.wac import _types as T

    try:
        world = composition.graph.package(composition.graph[node].package).ty
        kind = world.imports[import_name]
    except (KeyError, AttributeError, IndexError, TypeError):
        return []
    found: list[str] = []

    def name(ty) -> str:
        ty = T.resolve_value_type(ty) if isinstance(ty, T.AliasType) else ty
        if isinstance(ty, (T.StreamType, T.FutureType)):
            inner = f"<{name(ty.element)}>" if ty.element is not None else ""
            return f"{ty.desc_name}{inner}"
        return T.value_desc(ty)

    def walk(ty, seen) -> None:
        if id(ty) in seen:
            return
        seen.add(id(ty))
        ty = T.resolve_value_type(ty) if isinstance(ty, T.AliasType) else ty
        if isinstance(ty, (T.StreamType, T.FutureType)):
            label = name(ty)
            if label not in found:
                found.append(label)
            return
        for attr in ("element", "some", "ok", "err"):
            inner = getattr(ty, attr, None)
            if inner is not None and not isinstance(inner, str):
                walk(inner, seen)
        for attr in ("fields", "cases"):
            members = getattr(ty, attr, None)
            if isinstance(members, dict):
                for inner in members.values():
                    if inner is not None:
                        walk(inner, seen)
        types = getattr(ty, "types", None)
        if isinstance(types, (list, tuple)):
            for inner in types:
                walk(inner, seen)

    funcs = []
    if kind.kind == "func":
        funcs = [kind.ty]
    elif kind.kind == "instance":
        funcs = [k.ty for k in kind.ty.exports.values() if getattr(k, "kind", None) == "func"]
    for func in funcs:
        for ty in list(func.params.values()) + ([func.result] if func.result is not None else []):
            walk(ty, set())
    return found
