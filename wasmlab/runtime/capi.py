"""The one door to wasmtime-py's private layer: its C API bindings and the internals around them.

wasmlab calls wasmtime's C API directly where wasmtime-py's public API is too slow (a call
through :class:`~wasmlab.runtime.codecs.BoundFunction` skips its per-call type lookups) or
lacks something (host functions with wasmlab's own value conversion, ``async func`` calls,
per-store epoch callbacks, WASI stdin from bytes, network switches).  Every use of a private
name of wasmtime-py goes through this module; the rest of wasmlab uses only what it defines.
wasmtime is pinned to one major version (``pyproject.toml``) because these names can change in
any release; :data:`PRIVATE_SYMBOLS` lists them and ``tests/test_capi.py`` checks each against
the installed wasmtime, naming any that is missing.

Private symbols relied on:

* ``wasmtime._ffi``, the ctypes bindings.  Types: ``wasmtime_component_val_t`` (and its ``of``
  union), ``wasmtime_component_vallist_t``, ``wasmtime_component_valtuple_t``,
  ``wasmtime_component_valrecord_t``, ``wasmtime_component_valflags_t``, ``wasm_byte_vec_t``,
  ``wasmtime_error_t``, ``wasmtime_context_t``, the callback types
  ``wasmtime_component_func_callback_t`` and ``wasmtime_component_resource_destructor_t``, and the
  ``WASMTIME_COMPONENT_<KIND>`` constants.  Functions: ``wasmtime_component_func_call``,
  ``wasmtime_component_func_call_async``, ``wasmtime_call_future_poll``,
  ``wasmtime_call_future_delete``, ``wasmtime_component_val_new``,
  ``wasmtime_component_val_delete``, ``wasmtime_component_vallist_new_uninit``,
  ``wasmtime_component_valtuple_new_uninit``, ``wasmtime_component_valrecord_new_uninit``,
  ``wasmtime_component_valflags_new_uninit``, ``wasmtime_component_resource_any_clone``,
  ``wasmtime_component_linker_instance_add_func``,
  ``wasmtime_component_linker_instance_add_resource``, ``wasmtime_store_epoch_deadline_callback``,
  ``wasmtime_context_set_epoch_deadline``, ``wasmtime_error_new``, ``wasm_byte_vec_new``,
  ``wasi_config_allow_ip_name_lookup``, ``wasi_config_set_stdin_bytes``.  Helpers:
  ``bytes_to_capi``, ``str_to_capi``, ``take_pointer``, and ``dll`` (the loaded library).  Used
  where present: ``wasmtime_config_wasm_component_model_async_set``.
* ``wasmtime._error.WasmtimeError._from_ptr``: an error object from a C error.
* ``wasmtime.component._enter``: ``catch_exceptions`` (runs a host callback, turning a Python
  exception into a trap) and ``maybe_raise_last_exn`` (re-raises it after the call).
* ``wasmtime.component.Func._func`` (the C function handle), ``wasmtime.Store._context`` (the
  store's C context), ``wasmtime.component.ResourceAny._from_ptr`` and
  ``wasmtime._managed.Managed._consume`` (taking a C handle's ownership).

Ownership: C component values live in :class:`ValSlots` (freed by :meth:`ValSlots.free`, which
leaves a plain value behind, so nothing is freed twice) and call futures in :class:`CallFuture`
(deleted exactly once); wasmtime-py's own objects keep owning what they wrap.
"""

from __future__ import annotations

import ctypes
import importlib
import types
from ctypes import byref

__all__ = ["PRIVATE_SYMBOLS", "missing_symbols", "WasmtimeError", "KIND", "VAL_SIZE", "VAL_OF", "ValSlots",
           "CallFuture", "func_call", "raise_call_error", "error_from", "func_handle", "store_context",
           "take_resource", "give_resource", "clone_resource", "catch_exceptions", "set_epoch_deadline",
           "epoch_deadline_callback", "trap_error", "link_host_func", "link_host_resource", "wasi_config",
           "enable_component_model_async", "SOCKETS_SWITCHABLE"]

_KINDS = ("bool", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "f32", "f64", "char", "string",
          "list", "record", "tuple", "variant", "enum", "option", "result", "flags", "resource")

PRIVATE_SYMBOLS: tuple[str, ...] = (
    *(f"wasmtime._ffi.{name}" for name in (
        "wasmtime_component_val_t", "wasmtime_component_vallist_t", "wasmtime_component_valtuple_t",
        "wasmtime_component_valrecord_t", "wasmtime_component_valflags_t", "wasm_byte_vec_t",
        "wasmtime_error_t", "wasmtime_context_t", "wasmtime_component_func_callback_t",
        "wasmtime_component_resource_destructor_t",
        "wasmtime_component_func_call", "wasmtime_component_func_call_async", "wasmtime_call_future_poll",
        "wasmtime_call_future_delete", "wasmtime_component_val_new", "wasmtime_component_val_delete",
        "wasmtime_component_vallist_new_uninit", "wasmtime_component_valtuple_new_uninit",
        "wasmtime_component_valrecord_new_uninit", "wasmtime_component_valflags_new_uninit",
        "wasmtime_component_resource_any_clone", "wasmtime_component_linker_instance_add_func",
        "wasmtime_component_linker_instance_add_resource", "wasmtime_store_epoch_deadline_callback",
        "wasmtime_context_set_epoch_deadline", "wasmtime_error_new", "wasm_byte_vec_new",
        "wasi_config_allow_ip_name_lookup", "wasi_config_set_stdin_bytes",
        "bytes_to_capi", "str_to_capi", "take_pointer", "dll")),
    *(f"wasmtime._ffi.WASMTIME_COMPONENT_{kind.upper()}" for kind in _KINDS),
    "wasmtime._error.WasmtimeError._from_ptr",
    "wasmtime.component._enter.catch_exceptions",
    "wasmtime.component._enter.maybe_raise_last_exn",
    "wasmtime.component.Func._func",
    "wasmtime.Store._context",
    "wasmtime.component.ResourceAny._from_ptr",
    "wasmtime._managed.Managed._consume",
)


def missing_symbols(symbols=PRIVATE_SYMBOLS) -> list[str]:
    """The symbols (dotted paths, as in :data:`PRIVATE_SYMBOLS`) the installed wasmtime lacks.

    An attribute only instances have (``Func._func``) counts when its class declares it.

    >>> missing_symbols(["wasmtime.Store._context", "wasmtime._ffi.no_such_function"])
    ['wasmtime._ffi.no_such_function']
    """
    return [symbol for symbol in symbols if not _present(symbol)]


def _present(symbol: str) -> bool:
    parts = symbol.split(".")
    found = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], 1):
        if hasattr(found, attr):
            found = getattr(found, attr)
            continue
        if isinstance(found, types.ModuleType):
            try:
                found = importlib.import_module(".".join(parts[:i + 1]))
                continue
            except ImportError:
                return False
        return i == len(parts) - 1 and isinstance(found, type) and _set_by_init(found, attr)
    return True


def _set_by_init(cls: type, attr: str) -> bool:
    return any(attr in getattr(base, "__annotations__", {}) for base in cls.__mro__)


_MISSING = missing_symbols()
if _MISSING:
    from importlib.metadata import version as _version

    raise ImportError(f"wasmlab needs private parts of wasmtime-py that wasmtime {_version('wasmtime')} lacks: "
                      f"{', '.join(_MISSING)} (install the wasmtime version pyproject.toml pins)")

from wasmtime import _ffi as ffi  # noqa: E402 - after the check, which names what is missing
from wasmtime._error import WasmtimeError  # noqa: E402
from wasmtime.component import ResourceAny  # noqa: E402
from wasmtime.component._enter import catch_exceptions, maybe_raise_last_exn  # noqa: E402

# ---- component values -------------------------------------------------------------------------------------

val_t = ffi.wasmtime_component_val_t
vallist_t = ffi.wasmtime_component_vallist_t
valtuple_t = ffi.wasmtime_component_valtuple_t
valrecord_t = ffi.wasmtime_component_valrecord_t
valflags_t = ffi.wasmtime_component_valflags_t
byte_vec_t = ffi.wasm_byte_vec_t
vallist_new_uninit = ffi.wasmtime_component_vallist_new_uninit
valtuple_new_uninit = ffi.wasmtime_component_valtuple_new_uninit
valrecord_new_uninit = ffi.wasmtime_component_valrecord_new_uninit
valflags_new_uninit = ffi.wasmtime_component_valflags_new_uninit
bytes_to_capi = ffi.bytes_to_capi  # a wasm_byte_vec_t owning a copy of the bytes
str_to_capi = ffi.str_to_capi

KIND = {name: getattr(ffi, f"WASMTIME_COMPONENT_{name.upper()}").value for name in _KINDS}
VAL_SIZE = ctypes.sizeof(val_t)
VAL_OF = val_t.of.offset  # where the value sits behind the kind byte


def _raw(name: str):
    """A C function of wasmtime's library called with ready ``c_void_p`` / ``c_size_t`` arguments,
    skipping the per-argument type conversion of wasmtime-py's declared prototypes."""
    fn = ffi.dll[name]  # a fresh function object: wasmtime-py's own keeps its argtypes
    fn.restype = ctypes.c_void_p
    fn.argtypes = None
    return fn


func_call = _raw("wasmtime_component_func_call")  # post-return runs inside it (wasmtime >= 43)
val_delete = _raw("wasmtime_component_val_delete")
_BOOL = KIND["bool"]


def boxed(raw) -> object:
    """A heap copy of a lowered value (what variants, options and results point to); the
    value that contains it owns it."""
    return ffi.wasmtime_component_val_new(byref(raw))


class ValSlots:
    """``n`` C component values in one buffer (a call's parameters or results) and the one way
    to free what they own: :meth:`free` deletes a slot's contents and leaves a plain ``bool``
    in it, so a slot is never freed twice, whichever path frees it."""

    __slots__ = ("n", "vals", "view", "pointers", "address")

    def __init__(self, n: int):
        self.n = n
        self.vals = (val_t * n)() if n else None
        self.view = memoryview(self.vals).cast("B") if n else None
        self.address = ctypes.addressof(self.vals) if n else None
        self.pointers = [ctypes.c_void_p(self.address + i * VAL_SIZE) for i in range(n)]

    def __getitem__(self, i: int):
        return self.vals[i]

    def slot(self, i: int) -> memoryview:
        """The bytes of slot ``i``."""
        return self.view[i * VAL_SIZE:(i + 1) * VAL_SIZE]

    def free(self, indexes) -> None:
        view, pointers = self.view, self.pointers
        for i in indexes:
            val_delete(pointers[i])
            view[i * VAL_SIZE] = _BOOL  # nothing left to free twice


# ---- calls --------------------------------------------------------------------------------------------------

def func_handle(func) -> ctypes.c_void_p:
    """The C handle of a :class:`wasmtime.component.Func` (lives as long as ``func``)."""
    return ctypes.c_void_p(ctypes.addressof(func._func))


def store_context(store) -> ctypes.c_void_p:
    """The C context of a :class:`wasmtime.Store` (lives as long as ``store``)."""
    return ctypes.cast(store._context(), ctypes.c_void_p)


def error_from(error) -> WasmtimeError:
    """The :class:`wasmtime.WasmtimeError` of an owned C ``wasmtime_error_t*`` (which it frees)."""
    return WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))


def raise_call_error(error):
    """Raise what a failed call's C error stands for: a Python exception a host import raised
    (as itself), else the wasmtime error."""
    exc = error_from(error)
    maybe_raise_last_exn()
    raise exc


class CallFuture:
    """An ``async func`` call in flight: wasmtime's call future, deleted exactly once."""

    def __init__(self, func, store, params: ValSlots, results: ValSlots):
        self.error = ctypes.POINTER(ffi.wasmtime_error_t)()
        self.future = ffi.wasmtime_component_func_call_async(
            byref(func._func), store._context(), params.vals, params.n, results.vals, results.n, byref(self.error))

    @property
    def started(self) -> bool:
        return bool(self.future)

    def poll(self) -> bool:
        """Run it until it finishes or waits; True once finished (then deleted)."""
        if ffi.wasmtime_call_future_poll(self.future):
            self.delete()
            return True
        return False

    def delete(self) -> None:
        if self.future:
            ffi.wasmtime_call_future_delete(self.future)
        self.future = None

    def raise_error(self) -> None:
        if self.error:
            raise WasmtimeError._from_ptr(self.error)


# ---- resources ------------------------------------------------------------------------------------------------

def take_resource(val) -> ResourceAny:
    """The resource handle a lifted value holds, now owned by the returned object."""
    return ResourceAny._from_ptr(ffi.take_pointer(val.of, "resource"))


def give_resource(handle):
    """A resource handle's C pointer, its ownership moving to the caller (into the guest)."""
    return handle._consume()


def clone_resource(handle):
    """A borrowed copy of a resource handle's C pointer."""
    return ffi.wasmtime_component_resource_any_clone(handle.ptr())


# ---- host functions and resources in a component linker ---------------------------------------------------------

host_callback = ffi.wasmtime_component_func_callback_t
destructor_callback = ffi.wasmtime_component_resource_destructor_t


def link_host_func(linker_instance, name: str, trampoline, handle: int, finalizer) -> None:
    """Define ``name`` in a linker instance as ``trampoline`` called with ``handle``."""
    encoded = name.encode("utf-8")
    error = ffi.wasmtime_component_linker_instance_add_func(
        linker_instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), trampoline, handle, finalizer)
    if error:
        raise WasmtimeError._from_ptr(error)


def link_host_resource(linker_instance, name: str, ty, destructor, handle: int, finalizer) -> None:
    """Define the resource type ``ty`` as ``name`` in a linker instance."""
    encoded = name.encode("utf-8")
    error = ffi.wasmtime_component_linker_instance_add_resource(
        linker_instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), ty.ptr(), destructor, handle,
        finalizer)
    if error:
        raise WasmtimeError._from_ptr(error)


def host_resource_to_any(host, context):
    """A host-defined resource handle as the C pointer a value slot takes (ownership moves)."""
    return host.to_any(context)._consume()


# ---- stores, engines, epochs ------------------------------------------------------------------------------------

def _c_set_epoch_deadline():
    fn = ffi.dll["wasmtime_context_set_epoch_deadline"]  # fresh function object, ours to declare
    fn.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    fn.restype = None
    return fn


set_epoch_deadline = _c_set_epoch_deadline()  # (store_context(store), ticks): cheaper than Store's own

epoch_callback_t = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.POINTER(ffi.wasmtime_context_t), ctypes.c_void_p,
                                    ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint8))
_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)()


def epoch_deadline_callback(store, callback, key: int) -> None:
    """Call ``callback`` (an :data:`epoch_callback_t`) with ``key`` when ``store`` reaches its deadline."""
    ffi.wasmtime_store_epoch_deadline_callback(store.ptr(), callback, key, _NO_FINALIZER)


def trap_error(message: bytes) -> int:
    """A new C error (owned by whoever it is returned to) as an address."""
    return ctypes.cast(ffi.wasmtime_error_new(message), ctypes.c_void_p).value


def enable_component_model_async(config) -> None:
    """Switch the component model's async on in a :class:`wasmtime.Config`, where wasmtime has it."""
    setter = getattr(ffi, "wasmtime_config_wasm_component_model_async_set", None)
    if setter is not None:
        setter(config.ptr(), True)


# ---- WASI ---------------------------------------------------------------------------------------------------------

# Since wasmtime 48 a WASI context opens no TCP or UDP socket unless allow_tcp / allow_udp switch them on,
# and wasi.h (the C API under wasmtime-py) has no such switches: see wasmlab.capabilities.sockets_available.
SOCKETS_SWITCHABLE = hasattr(ffi, "wasi_config_allow_tcp") and hasattr(ffi, "wasi_config_allow_udp")


def _set_stdin_bytes(config, data: bytes) -> None:
    vec = ffi.wasm_byte_vec_t()
    ffi.wasm_byte_vec_new(byref(vec), len(data), (ctypes.c_uint8 * len(data)).from_buffer_copy(data))
    ffi.wasi_config_set_stdin_bytes(config.ptr(), byref(vec))  # takes ownership of vec


def wasi_config(grants, output=None):
    """A fresh :class:`wasmtime.WasiConfig` for one run with ``grants`` (a config is consumed by
    its store); guest output goes to ``output`` (a :class:`~wasmlab.runtime.engines.GuestOutput`).

    Refused when sockets are granted, which wasmtime-py cannot open: a guest would be told
    "access denied" on a connection it was granted.
    """
    import wasmtime

    from wasmlab.capabilities import SOCKETS_UNAVAILABLE, SOCKETS_WORKAROUND
    from wasmlab.errors import WasmlabError

    if grants.network and not SOCKETS_SWITCHABLE:
        raise WasmlabError("outbound sockets are granted, but wasmtime-py cannot open them in this process",
                           detail=SOCKETS_UNAVAILABLE, hint=SOCKETS_WORKAROUND)
    config = wasmtime.WasiConfig()
    if grants.args:
        config.argv = list(grants.args)
    environment = grants.environment()
    if environment:
        config.env = environment
    for grant in grants.dirs:
        config.preopen_dir(grant.host, grant.guest, fs_mutable=not grant.read_only)
    if grants.inherit_stdio:
        config.inherit_stdin()
        config.inherit_stdout()
        config.inherit_stderr()
    else:
        if grants.stdin is not None:
            _set_stdin_bytes(config, grants.stdin)
        if output is not None:
            config.stdout_custom = output.on_stdout
            config.stderr_custom = output.on_stderr
    if grants.ip_name_lookup:
        ffi.wasi_config_allow_ip_name_lookup(config.ptr(), True)
    return config
