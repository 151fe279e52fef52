"""One component, another engine: the same exports run under Node's V8 (jco + preview2-shim).

``component.engine("node")`` transpiles the component with the pinned ``jco`` (cached by the
component's bytes) and keeps one Node process answering calls.  Arguments are checked by the
same codecs as the wasmtime path (same errors for wrong values), travel to Node as JSON shaped
as jco's JavaScript bindings expect, and results come back as the Python values the wasmtime
path returns, so the two compare equal.

Grants map onto preview2-shim's switches: environment, arguments, directories, sockets, name
lookup.  What Node cannot honour is refused, never ignored: read-only directories (the shim has
no read-only mode), and fuel and memory limits (V8 has neither); a time limit stops the Node
process.  A known difference (tests/test_node_engine.py shows it): preview2-shim under Node reads
files in a granted directory but cannot create them ("Not supported") where wasmtime can.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import weakref

from wasmlab import values as V
from wasmlab.errors import GuestError, Trap, WasmlabError
from wasmlab.runtime import codecs
from wasmlab.toolchain import javascript
from wasmlab.views import Displayable
from wasmlab.wittypes import (
    EnumT,
    FixedListT,
    FlagsT,
    Function,
    ListT,
    OptionT,
    Prim,
    RecordT,
    ResultT,
    TupleT,
    Type,
    VariantT,
    unalias,
)

__all__ = ["NodeEngine", "NodeFunction", "EngineComparison", "compare_engines", "to_js", "from_js", "brief"]

_MARK = "\x1eWASMLAB "
_TYPED = {"s8": "Int8Array", "u8": "Uint8Array", "s16": "Int16Array", "u16": "Uint16Array", "s32": "Int32Array",
          "u32": "Uint32Array", "s64": "BigInt64Array", "u64": "BigUint64Array", "f32": "Float32Array",
          "f64": "Float64Array"}
_UNDEFINED = {"$": "u"}


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _number(value, kind: str):
    if kind in ("s64", "u64"):
        return {"$": "big", "v": str(value)}
    if kind in ("f32", "f64") and (value != value or value in (float("inf"), float("-inf"))
                                   or (value == 0 and str(value).startswith("-"))):
        return {"$": "f", "v": {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(str(value), "-0")}
    return value


def to_js(value, ty: Type):
    """A value as the codecs' ``check`` normalised it, shaped as jco's bindings take it (tagged JSON)."""
    ty = unalias(ty)
    if isinstance(ty, Prim):
        if ty.kind == "string":  # the codec checked it into UTF-8
            return value.decode("utf-8")
        return _number(value, ty.kind)
    if isinstance(ty, (ListT, FixedListT)):
        element = unalias(ty.element)
        if isinstance(element, Prim) and element.kind in _TYPED and isinstance(ty, ListT):
            return {"$": "ta", "k": _TYPED[element.kind], "v": [_number(v, element.kind) for v in value]}
        return [to_js(v, element) for v in value]
    if isinstance(ty, TupleT):
        return [to_js(v, t) for v, t in zip(value, ty.elements)]
    if isinstance(ty, RecordT):
        return {_camel(name): to_js(v, t) for (name, t), v in zip(ty.fields, value)}
    if isinstance(ty, VariantT):
        case, payload = value
        carried = dict(ty.cases)[case]
        return {"tag": case} if carried is None else {"tag": case, "val": to_js(payload, carried)}
    if isinstance(ty, EnumT):
        return value
    if isinstance(ty, FlagsT):
        return {_camel(flag): flag in value for flag in ty.flags}
    if isinstance(ty, OptionT):
        if isinstance(unalias(ty.inner), OptionT):  # jco tags the outer level of a nested option
            return {"tag": "none"} if value is None else {"tag": "some", "val": to_js(value.value, ty.inner)}
        return _UNDEFINED if value is None else to_js(value.value, ty.inner)
    if isinstance(ty, ResultT):
        is_ok, payload = value
        carried = ty.ok if is_ok else ty.err
        out = {"tag": "ok" if is_ok else "err"}
        if carried is not None:
            out["val"] = to_js(payload, carried)
        return out
    raise WasmlabError(f"values of type {ty.wit()} cannot be passed to Node")


def _untag(data):
    if isinstance(data, dict) and "$" in data:
        kind = data["$"]
        if kind == "big":
            return int(data["v"])
        if kind == "f":
            return float({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(data["v"], data["v"]))
        if kind == "u":
            return None
        if kind == "ta":
            return [_untag(v) for v in data["v"]]
    return data


def from_js(data, ty: Type):
    """A value jco's bindings returned (tagged JSON) as the wasmtime path's Python value."""
    ty = unalias(ty)
    data = _untag(data)
    if isinstance(ty, Prim):
        if ty.kind in ("f32", "f64"):
            return float(data)
        return data
    if isinstance(ty, ListT):
        element = unalias(ty.element)
        if isinstance(element, Prim) and element.kind == "u8":
            return bytes(data)
        return [from_js(v, element) for v in data]
    if isinstance(ty, FixedListT):
        return [from_js(v, ty.element) for v in data]
    if isinstance(ty, TupleT):
        return tuple(from_js(v, t) for v, t in zip(data, ty.elements))
    if isinstance(ty, RecordT):
        return V.record_class(ty)(*(from_js(data.get(_camel(name), _UNDEFINED), t) for name, t in ty.fields))
    if isinstance(ty, VariantT):
        carried = dict(ty.cases)[data["tag"]]
        return V.Variant(data["tag"], None if carried is None else from_js(data.get("val"), carried))
    if isinstance(ty, EnumT):
        return V.enum_class(ty)(data)
    if isinstance(ty, FlagsT):
        return V.Flags((f for f in ty.flags if data.get(_camel(f))), ty.flags)
    if isinstance(ty, OptionT):
        if isinstance(unalias(ty.inner), OptionT):  # as the codecs lift it: every level explicit
            return None if data.get("tag") == "none" else V.Some(_explicit(data.get("val", _UNDEFINED), ty.inner))
        return None if data is None else from_js(data, ty.inner)
    if isinstance(ty, ResultT):
        carried = ty.ok if data["tag"] == "ok" else ty.err
        payload = None if carried is None else from_js(data.get("val"), carried)
        return V.Ok(payload) if data["tag"] == "ok" else V.Err(payload)
    raise WasmlabError(f"values of type {ty.wit()} cannot come back from Node")


def _explicit(data, ty: OptionT):
    data = _untag(data)
    if isinstance(unalias(ty.inner), OptionT):
        return None if data.get("tag") == "none" else V.Some(_explicit(data.get("val", _UNDEFINED), ty.inner))
    return None if data is None else V.Some(from_js(data, ty.inner))


class NodeEngine:
    """A component's exports run under Node: ``engine.iface.func(...)``, ``engine.call("iface#func", ...)``."""

    name = "node"

    def __init__(self, component, *, progress: bool = True):
        self.component = component
        self.progress = progress
        self._process: subprocess.Popen | None = None
        self._config = None
        self._lock = threading.Lock()
        self.last_seconds: float | None = None  # the last call's time inside Node, without the round trip
        weakref.finalize(self, _stop, self.__dict__)

    def __repr__(self) -> str:
        return f"<{self.component.name} under Node>"

    # -- the Node process ------------------------------------------------------------------------

    def module(self) -> str:
        """The transpiled ES module (cached in the tool folder)."""
        return str(javascript.transpile(self.component.wasm_path, name=_module_name(self.component.name),
                                        progress=self.progress))

    def _wanted_config(self) -> dict:
        grants, limits = self.component.grants, self.component.limits
        refused = [what for what, asked in (("fuel", limits.fuel is not None),
                                            ("max_memory", limits.max_memory is not None)) if asked]
        if refused:
            raise WasmlabError(f"Node cannot honour the limit {refused[0]}: V8 has no {refused[0].replace('_', ' ')} "
                               "budget for Wasm", hint="clear it for Node (Limits(timeout=...) works), or call "
                               "the component with wasmtime")
        dirs = []
        for grant in grants.dirs:
            if grant.read_only:
                raise WasmlabError(f"Node cannot grant {grant.host} read-only: preview2-shim has no read-only "
                                   "directories", hint="grant it read-write for Node, or call with wasmtime")
            dirs.append([grant.guest, os.path.abspath(grant.host)])
        env = dict(grants.env)
        for name in grants.inherit_env:
            if name in os.environ:
                env[name] = os.environ[name]
        if grants.stdin:
            raise WasmlabError("Node calls take no stdin here", hint="call with wasmtime to feed stdin")
        return {"env": env, "args": list(grants.args), "dirs": dirs,
                "sockets": grants.network, "nameLookup": grants.ip_name_lookup, "http": False}

    def _ensure(self) -> subprocess.Popen:
        config = self._wanted_config()
        if self._process is not None and (self._process.poll() is not None or config != self._config):
            self.close()
        if self._process is None:
            module = self.module()
            tools = javascript.npm_tools(progress=self.progress)
            script = javascript._driver(tools, "node_call.mjs")
            self._process = subprocess.Popen(
                [javascript.node_command(), *javascript.node_wasm_flags(), str(script), module, json.dumps(config)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tools)
            self._config = config
            self._stderr = []
            threading.Thread(target=_drain, args=(self._process.stderr, self._stderr), daemon=True).start()
            ready = self._read(timeout=None)
            if "trap" in ready:
                self.close()
                raise Trap(f"{self.component.name} did not start under Node: {ready['trap']}",
                           stderr="".join(self._stderr))
        return self._process

    def _read(self, *, timeout: float | None, echo: bool = True) -> dict:
        process = self._process
        timer = None
        if timeout is not None:
            timer = threading.Timer(timeout, process.kill)
            timer.start()
        try:
            while True:
                line = process.stdout.readline()
                if not line:
                    raise _ended(self, timeout)
                text = line.decode("utf-8", "replace")
                if text.startswith(_MARK):
                    return json.loads(text[len(_MARK):])
                if echo:
                    sys.stdout.write(text)
        finally:
            if timer is not None:
                timer.cancel()
            if echo and self._stderr:
                sys.stderr.write("".join(self._stderr))
                self._stderr.clear()

    def close(self) -> None:
        """Stop the Node process (the next call starts a fresh one)."""
        _stop(self.__dict__)

    # -- calls -------------------------------------------------------------------------------------

    def export(self, target: str) -> "NodeFunction":
        exported = self.component.export(target)
        return NodeFunction(self, exported.path, exported.function)

    def call(self, target: str, *args, **kwargs):
        return self.export(target)(*args, **kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        bound = getattr(self.component, name)
        if hasattr(bound, "function") and hasattr(bound, "path"):
            return NodeFunction(self, bound.path, bound.function)
        if hasattr(bound, "_item"):
            return NodeInterface(self, bound)
        raise AttributeError(f"{name} is not an exported function or interface")

    def invoke(self, path: tuple[str, ...], function: Function, args: tuple, *, result: bool = False,
               repeat: int = 1, echo: bool = True):
        checked = codecs.plain_arguments("#".join(path), function, args, "Node")
        request = {"path": [None, path[0]] if len(path) == 1 else list(path),
                   "args": [to_js(v, t) for v, (_, t) in zip(checked, function.params)], "repeat": repeat}
        with self._lock:
            process = self._ensure()
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
            response = self._read(timeout=self.component.limits.timeout, echo=echo)
        if "missing" in response:
            raise WasmlabError(f"the transpiled module has no {'#'.join(path)}")
        self.last_seconds = int(response["ns"]) / 1e9
        name = "#".join(path)
        if "trap" in response:
            self.close()  # as with wasmtime, the next call starts in a fresh instance
            raise Trap(f"{name} trapped under Node: {response['trap']}")
        kind = unalias(function.result) if function.result is not None else None
        if "err" in response:
            payload = from_js(response["err"], kind.err) if isinstance(kind, ResultT) and kind.err else None
            if result:
                return V.Err(payload)
            raise GuestError(payload, function=name)
        if function.result is None:
            return None
        if isinstance(kind, ResultT):
            payload = None if kind.ok is None else from_js(response["ok"], kind.ok)
            return V.Ok(payload) if result else payload
        return from_js(response["ok"], function.result)


def _module_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name) or "component"


def _drain(stream, sink: list) -> None:
    for line in iter(stream.readline, b""):
        sink.append(line.decode("utf-8", "replace"))


def _ended(engine: NodeEngine, timeout: float | None) -> WasmlabError:
    stderr = "".join(engine._stderr)
    engine.close()
    if timeout is not None:
        return Trap(f"the time limit of {timeout:g} s was reached under Node", trap_kind="timeout",
                    hint="raise it with Limits(timeout=...), or look for an endless loop")
    return Trap("Node stopped unexpectedly", stderr=stderr)


def _stop(state: dict) -> None:
    process = state.get("_process")
    state["_process"] = None
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


class NodeFunction:
    """One export under Node; ``last_seconds`` is the time of the last call inside Node."""

    def __init__(self, engine: NodeEngine, path: tuple[str, ...], function: Function):
        self.engine = engine
        self.path = path
        self.function = function

    @property
    def name(self) -> str:
        return "#".join(self.path)

    def __repr__(self) -> str:
        return f"{self.name}: {self.function.signature()} (under Node)"

    def _positional(self, args, kwargs) -> tuple:
        return codecs.positional(self.name, self.function, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self.engine.invoke(self.path, self.function, self._positional(args, kwargs))

    def result(self, *args, **kwargs):
        """Call, returning ``Ok``/``Err`` for a ``result`` instead of raising on ``err``."""
        return self.engine.invoke(self.path, self.function, self._positional(args, kwargs), result=True)

    def timed(self, *args, repeat: int = 100):
        """Call ``repeat`` times inside Node; returns (result, seconds per call)."""
        value = self.engine.invoke(self.path, self.function, args, repeat=repeat, echo=False)
        return value, self.engine.last_seconds


class NodeInterface:
    def __init__(self, engine: NodeEngine, exported_interface):
        self._engine = engine
        self._exported = exported_interface

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        bound = getattr(self._exported, name)
        if not (hasattr(bound, "function") and hasattr(bound, "path")):
            raise WasmlabError(f"{name} cannot be called under Node (resources stay with wasmtime)")
        return NodeFunction(self._engine, bound.path, bound.function)

    def __getitem__(self, wit_name: str):
        bound = self._exported[wit_name]
        return NodeFunction(self._engine, bound.path, bound.function)

    def __dir__(self):
        return dir(self._exported)




class EngineComparison(Displayable):
    """The same calls under wasmtime and under Node: results side by side, and the time per call
    (wasmtime's as Python calls it through wasmlab, Node's inside V8, each averaged over ``repeat``)."""

    def __init__(self, component_name: str, rows: list[dict], repeat: int):
        self.component_name = component_name
        self.rows = rows
        self.repeat = repeat

    @property
    def all_equal(self) -> bool:
        return all(row["same"] for row in self.rows)

    def __repr__(self) -> str:
        header = ("call", "wasmtime", "node", "same", "wasmtime µs", "node µs")
        lines = [header] + [(r["call"], brief(r["wasmtime"]), brief(r["node"]), "yes" if r["same"] else "NO",
                             f"{r['wasmtime_seconds'] * 1e6:.1f}", f"{r['node_seconds'] * 1e6:.1f}")
                            for r in self.rows]
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def brief(value, width: int = 40) -> str:
    """``repr`` cut to ``width`` characters, for tables."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def compare_engines(component, calls, *, repeat: int = 200) -> EngineComparison:
    """Run each ``(target, args)`` of ``calls`` under wasmtime and under Node; see :class:`EngineComparison`."""
    import time

    node = component.engine("node")
    rows = []
    for target, args in calls:
        under_wasmtime = component.export(target)
        started = time.perf_counter()
        for _ in range(repeat):
            wasmtime_value = under_wasmtime(*args)
        wasmtime_seconds = (time.perf_counter() - started) / repeat
        node_value, node_seconds = node.export(target).timed(*args, repeat=repeat)
        rows.append({"call": f"{target}({', '.join(map(brief, args))})", "wasmtime": wasmtime_value,
                     "node": node_value, "same": wasmtime_value == node_value,
                     "wasmtime_seconds": wasmtime_seconds, "node_seconds": node_seconds})
    return EngineComparison(component.name, rows, repeat)
