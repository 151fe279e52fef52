"""Core WebAssembly modules (before components): WAT or .wasm, called from Python or run as
WASI (preview 1) programs.  The first lessons need them: numbers in, numbers out, and the
sandbox's own checks (bounds, signatures) trapping for real.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import wasmtime

from wasmlab.capabilities import Grants, Sandboxed
from wasmlab.errors import ArgumentError, LoadError, Location, WasmlabError
from wasmlab.runtime import capi, engines
from wasmlab.toolchain.tools import looks_like_wat
from wasmlab.views import Displayable
from wasmlab.wittypes import INT_RANGES

__all__ = ["CoreModule", "load_module"]


class CoreModule(Sandboxed, Displayable):
    """A compiled core module.  Exported functions are attributes; ``run()`` runs ``_start``."""

    def __init__(self, name: str, wasm: bytes):
        self.name = name
        self.wasm = wasm
        self.fuel_consumed: int | None = None  # by the last call or run with a fuel budget
        self._modules: dict[engines.EngineKind, wasmtime.Module] = {}

    def compiled(self, kind: engines.EngineKind = engines.EngineKind()) -> wasmtime.Module:
        if kind not in self._modules:
            self._modules[kind] = wasmtime.Module(engines.engine(kind), self.wasm)
        return self._modules[kind]

    @property
    def module(self) -> wasmtime.Module:
        return self.compiled()

    @property
    def exports(self) -> dict[str, wasmtime.ExternType]:
        return {e.name: e.type for e in self.module.exports}

    @property
    def imports(self) -> list[tuple[str, str, wasmtime.ExternType]]:
        return [(i.module, i.name, i.type) for i in self.module.imports]

    @property
    def is_wasi(self) -> bool:
        return any(m.startswith("wasi_snapshot_preview1") for m, _, _ in self.imports)

    def summary(self) -> str:
        lines = [f"core module {self.name}" + (" (WASI preview 1)" if self.is_wasi else "")]
        if self.imports:
            lines.append("imports:")
            lines.extend(f"  {m}.{n}: {_describe(t)}" for m, n, t in self.imports)
        lines.append("exports:")
        lines.extend(f"  {n}: {_describe(t)}" for n, t in self.exports.items())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _instantiate(self, output: engines.GuestOutput, grants: Grants):
        kind = engines.EngineKind.for_limits(self.limits)
        store = engines.new_store(self.limits)
        linker = wasmtime.Linker(engines.engine(kind))
        if self.is_wasi:
            linker.define_wasi()
            # WASI preview 1 has no sockets: a network grant means nothing to a core module
            store.set_wasi(capi.wasi_config(dataclasses.replace(grants, network=False), output))
        try:
            return store, linker.instantiate(store, self.compiled(kind))
        except wasmtime.WasmtimeError as exc:
            raise WasmlabError(f"cannot instantiate {self.name}: {str(exc).splitlines()[0]}",
                               hint="a core module may only import WASI preview 1 here") from None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        wasm_name = name if name in self.exports else name.replace("_", "-")
        ty = self.exports.get(wasm_name)
        if not isinstance(ty, wasmtime.FuncType):
            raise AttributeError(f"module {self.name} exports no function {name!r}; "
                                 f"functions: {', '.join(n for n, t in self.exports.items() if isinstance(t, wasmtime.FuncType))}")
        return lambda *args: self.call(wasm_name, *args)

    def call(self, export: str, *args):
        """Call an exported function in a fresh instance (a trap never leaves one behind)."""
        ty = self.exports[export]
        params = list(ty.params)
        if len(args) != len(params):
            raise ArgumentError(f"{export} takes {len(params)} argument(s) ({', '.join(map(str, params))}), "
                                f"got {len(args)}")
        for i, (value, param) in enumerate(zip(args, params)):
            _check_core_value(export, i, value, param)
        output = engines.GuestOutput()
        store, instance = self._instantiate(output, self.grants)
        func = instance.exports(store)[export]
        try:
            with engines.StoreGuard(store, self.limits) as guard, self._metered(store):
                return func(store, *args)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise engines.trap_from(exc, function=export, stderr=output.stderr_text(), limits=self.limits,
                                    guard=guard) from None

    def run(self, *args: str, stdin: str | bytes | None = None, echo: bool = True) -> engines.RunResult:
        """Run the module as a WASI program (its ``_start``): arguments, stdin, captured output."""
        if "_start" not in self.exports:
            raise WasmlabError(f"module {self.name} has no _start: it is a library, not a program",
                               hint="call its exported functions instead")
        grants = self.grants.with_args(self.name, *args)
        if stdin is not None:
            grants = grants.with_stdin(stdin)
        output = engines.GuestOutput(echo=echo)
        store, instance = self._instantiate(output, grants)
        start = instance.exports(store)["_start"]
        exit_code = 0
        try:
            with engines.StoreGuard(store, self.limits) as guard, self._metered(store):
                start(store)
        except wasmtime.ExitTrap as exc:
            exit_code = exc.code
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise engines.trap_from(exc, function="_start", stderr=output.stderr_text(), limits=self.limits,
                                    guard=guard) from None
        return engines.RunResult(exit_code, output.stdout.decode("utf-8", "replace"), output.stderr_text())

    @contextlib.contextmanager
    def _metered(self, store):
        try:
            yield
        finally:
            if self.limits.fuel is not None:
                self.fuel_consumed = self.limits.fuel - store.get_fuel()


def _describe(ty) -> str:
    if isinstance(ty, wasmtime.FuncType):
        params = ", ".join(map(str, ty.params))
        results = ", ".join(map(str, ty.results))
        return f"func({params})" + (f" -> {results}" if results else "")
    return type(ty).__name__.replace("Type", "").lower()


def _check_core_value(export: str, index: int, value, param: wasmtime.ValType) -> None:
    kind = str(param)
    if kind in ("i32", "i64"):
        bits = kind[1:]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ArgumentError(f"{export}: argument {index + 1} must be an int for {kind}, got {type(value).__name__}")
        # core integers have no sign: signed and unsigned readings both fit
        if not INT_RANGES[f"s{bits}"][0] <= value < INT_RANGES[f"u{bits}"][1]:
            raise ArgumentError(f"{export}: argument {index + 1} = {value} does not fit in {kind}")
    elif kind in ("f32", "f64") and not isinstance(value, (int, float)):
        raise ArgumentError(f"{export}: argument {index + 1} must be a number for {kind}")


def load_module(source: str | os.PathLike | bytes, *, name: str | None = None, origin: str = "<wat>") -> CoreModule:
    """A core module from WAT text, a ``.wat``/``.wasm`` path, or wasm bytes."""
    if isinstance(source, (bytes, bytearray)):
        data, default = bytes(source), "module"
    elif isinstance(source, str) and looks_like_wat(source):
        data, default = _wat_to_wasm(source, origin), "module"
    else:
        path = Path(source)
        if not path.is_file():
            raise LoadError(f"{path}: no such file")
        default = path.stem
        data = _wat_to_wasm(path.read_text(encoding="utf-8"), str(path)) if path.suffix == ".wat" else path.read_bytes()
    if data[:4] != b"\0asm":
        raise LoadError("not a WebAssembly binary (it does not start with \\0asm)")
    if data[4:8] != b"\x01\x00\x00\x00":
        raise LoadError("this is a component, not a core module", hint="load components with wasmlab.load")
    module = CoreModule(name or default, data)
    try:
        module.compiled()
    except wasmtime.WasmtimeError as exc:
        raise LoadError("not a valid core module", detail="\n".join(str(exc).splitlines()[:6])) from None
    return module


def _wat_to_wasm(text: str, origin: str) -> bytes:
    import tempfile

    from wasmlab.toolchain.builders import _wat_error
    from wasmlab.toolchain.tools import wasm_tools

    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise LoadError(f"the WAT holds {text[exc.start]!r}, a lone surrogate, which is not text",
                        location=Location(origin, line, column, text)) from None
    with tempfile.TemporaryDirectory(prefix="wasmlab-wat-") as tmp:
        src = Path(tmp) / "cell.wat"
        src.write_text(text, encoding="utf-8")
        result = wasm_tools("parse", src, check=False)
        if not result.ok:
            raise _wat_error(result.stderr, text, origin, src)
        return result.stdout
