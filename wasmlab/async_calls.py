"""Calling ``async func`` exports (the Component Model's native async, WASI 0.3's base).

wasmtime refuses to call an async-lifted export synchronously; it is started with
``wasmtime_component_func_call_async`` and driven by polling the returned call future until
it is ready.  Between polls the host is free: in a notebook the event loop runs other tasks.

How an async export reads from Python::

    await comp.double(21)               # in a notebook cell (IPython allows top-level await)
    comp.double(21)                     # in plain code without a running event loop: blocks
    comp.double.call_sync(21)           # blocks, also inside a running event loop
    await asyncio.gather(comp.double(1), comp.double(2))   # both in flight at once

A store runs one call at a time, so a call that starts while the component's own instance is
busy gets an instance of its own.  A call runs under the component's limits (``timeout``, the
kernel's stop button); a trap, an interrupt or a cancelled call throws its store away, so the
next call starts fresh.

Streams, futures and error contexts never cross into Python: wasmtime's C API aborts the whole
process when one reaches the host, so such functions are refused before the call (see
:func:`wasmlab._abi.refuse_host_boundary`); a driver component keeps them inside a composition.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import ctypes
import dataclasses
import time
from ctypes import byref

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._error import WasmtimeError

from . import _abi, _linking, runtime
from . import values as V
from .capabilities import denial_hint
from .errors import GuestError, GuestExit, Trap, WasmlabError

__all__ = ["AsyncBoundFunction", "PendingCall", "call_export", "call_async", "call_blocking", "loop_is_running"]


class AsyncBoundFunction(_abi.BoundFunction):
    """An ``async func`` export of one instance: checked and lowered like a sync one, started
    with ``call_async`` and completed by :meth:`poll`."""

    allows_async = True

    def start(self, *args, **kwargs) -> "_CallFuture":
        checked = self._arguments(args, kwargs)
        return _CallFuture(self, checked)

    def __call__(self, *args, result_objects: bool = False, **kwargs):
        call = self.start(*args, **kwargs)
        while not call.poll():
            pass
        return call.value(result_objects=result_objects)


class _CallFuture:
    """One async call in flight: wasmtime's call future with the memory it writes into."""

    def __init__(self, bound: AsyncBoundFunction, checked: list):
        self.bound = bound
        n = len(checked)
        self.params = (ffi.wasmtime_component_val_t * n)() if n else None
        for i, ((_, c), v) in enumerate(zip(bound.params, checked)):
            c.lower(v, self.params[i])
        self.n = n
        self.result = ffi.wasmtime_component_val_t() if bound.result is not None else None
        self.error = ctypes.POINTER(ffi.wasmtime_error_t)()
        self.done = False
        self.future = ffi.wasmtime_component_func_call_async(
            byref(bound.func._func), bound.store._context(), self.params, n,
            byref(self.result) if self.result is not None else None, 1 if self.result is not None else 0,
            byref(self.error))

    def poll(self) -> bool:
        """Run the call until it finishes or waits; True once finished (never poll again then:
        polling a finished call future aborts the process)."""
        if self.done:
            return True
        if ffi.wasmtime_call_future_poll(self.future):
            self._finish()
        return self.done

    def _finish(self) -> None:
        self.done = True
        ffi.wasmtime_call_future_delete(self.future)
        self.future = None
        for i in self.bound.frees:
            ffi.wasmtime_component_val_delete(byref(self.params[i]))

    def cancel(self) -> None:
        """Drop a call still in flight; its store must not be used afterwards."""
        if not self.done:
            self._finish()

    def value(self, *, result_objects: bool = False):
        if self.error:
            raise WasmtimeError._from_ptr(self.error)
        bound = self.bound
        if self.result is None:
            return None
        try:
            value = bound.result.lift(self.result)
        finally:
            ffi.wasmtime_component_val_delete(byref(self.result))
        if isinstance(bound.result, _abi._Result) and not result_objects:
            if isinstance(value, V.Err):
                raise GuestError(value.value, function=bound.name)
            if isinstance(value, V.Ok):
                return value.value
        return value


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
    _refuse_streams(exported.function, exported.name)  # at the call site, not only when awaited
    component.last_action = lambda: call_export(exported, args, kwargs, result_objects=result_objects, block=True)
    if block is None:
        block = not loop_is_running()
    if not block:
        return PendingCall(exported, args, kwargs, result_objects)
    instance = _idle_instance(component)
    return call_blocking(instance, exported.path, exported.function, args, kwargs, result_objects=result_objects)


def _refuse_streams(function, name: str) -> None:
    for pname, pty in function.params:
        found = _abi._crosses_boundary(pty)
        if found is not None:
            raise _abi.refuse_host_boundary(f"parameter {pname} of {name}", found)
    found = _abi._crosses_boundary(function.result)
    if found is not None:
        raise _abi.refuse_host_boundary(f"the result of {name}", found)


def _idle_instance(component):
    """The component's own instance if no call is running in it, else a spare of the same
    grants and limits (a store runs one call at a time)."""
    instance = component._default_instance()
    if not getattr(instance, "busy", False):
        return instance
    spares = component.__dict__.setdefault("_async_spares", [])
    spares[:] = [s for s in spares if not s.poisoned and s.grants is component.grants and s.limits is component.limits]
    for spare in spares:
        if not getattr(spare, "busy", False):
            return spare
    spare = component.instantiate()
    spares.append(spare)
    return spare


async def call_async(instance, path, function, args, kwargs, *, result_objects: bool = False):
    """Call an async export in ``instance``, polling without blocking the event loop."""
    bound = instance.bound(path, function)
    limits = instance.limits
    deadline = None if limits.timeout is None else time.monotonic() + limits.timeout
    with running(instance, bound.name) as run:
        call = None
        try:
            while True:
                remaining = _remaining(deadline, limits, bound.name)
                step_limits = dataclasses.replace(limits, timeout=remaining)
                with runtime.guarded(instance.store, step_limits) as guard:
                    run.guard = guard
                    if call is None:
                        call = bound.start(*args, **kwargs)
                    if call.poll():
                        return call.value(result_objects=result_objects)
                await asyncio.sleep(0)
        except BaseException:
            if call is not None:
                call.cancel()
            raise


def call_blocking(instance, path, function, args, kwargs, *, result_objects: bool = False):
    """The same call, blocking until it finishes (plain scripts, ``call_sync``, the CLI)."""
    bound = instance.bound(path, function)
    with running(instance, bound.name) as run:
        with runtime.guarded(instance.store, instance.limits) as guard:
            run.guard = guard
            call = bound.start(*args, **kwargs)
            try:
                while not call.poll():
                    time.sleep(0)
            except BaseException:
                call.cancel()
                raise
            return call.value(result_objects=result_objects)


class _Run:
    guard = None


@contextlib.contextmanager
def running(instance, name: str):
    """One call in ``instance``: marks it busy, meters what it uses, and turns what wasmtime
    raises into wasmlab's errors; anything that stops a call midway retires the instance."""
    if instance.poisoned:
        raise WasmlabError("this instance trapped earlier and cannot be used again",
                           hint="call through the component (it starts a fresh instance) or instantiate() anew")
    if getattr(instance, "busy", False):
        raise WasmlabError(f"a call is already running in this instance of {instance.component.name}",
                           hint="call through the component: concurrent calls get instances of their own")
    run = _Run()
    mark = len(instance.output.stderr)
    limits = instance.limits
    fuel = limits.fuel is not None
    if fuel:
        instance.store.set_fuel(limits.fuel)
    used = instance.meter.start()
    instance.component._last_usage = (used, instance.grants)
    instance.busy = True
    try:
        yield run
    except wasmtime.ExitTrap as exc:
        instance.poisoned = True
        raise GuestExit(exc.code, function=name) from None
    except wasmtime.WasmtimeError as exc:
        instance.poisoned = True
        stderr = instance.output.stderr[mark:].decode("utf-8", errors="replace")
        trap = runtime.trap_from(exc, function=name, stderr=stderr, limits=limits, guard=run.guard)
        denial = denial_hint(instance.grants, stderr)
        if denial and isinstance(trap, WasmlabError):
            trap.hint = denial
        raise trap from None
    except (KeyboardInterrupt, asyncio.CancelledError, _linking.HostError, Trap):
        instance.poisoned = True  # stopped midway: the next call gets a fresh instance
        raise
    finally:
        instance.busy = False
        used.merge_files(instance._files.drain())
        if fuel and not instance.poisoned:
            instance.fuel_consumed = limits.fuel - instance.store.get_fuel()
            instance.component._last_fuel = instance.fuel_consumed


def _remaining(deadline, limits, name: str):
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise Trap(f"the time limit of {limits.timeout:g} s was reached in {name}", trap_kind="timeout",
                   hint="raise it with Limits(timeout=...) or --timeout, or look for an endless loop")
    return left


async def _call_on_idle(exported, args, kwargs, result_objects):
    # the instance is chosen and marked busy with no await in between: concurrent calls
    # started together each get their own
    instance = _idle_instance(exported._component)
    return await call_async(instance, exported.path, exported.function, args, kwargs, result_objects=result_objects)


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
