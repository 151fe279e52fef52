"""``wac plug``: wire every export of each plug into the socket's imports of the same name.

``plug_graph(graph, plugs, socket)`` works on a ``CompositionGraph`` with registered packages (ids):
it instantiates the socket, and for each plug whose exports match socket imports (same name, or
a semver-compatible interface name, and a subtype of the import) instantiates the plug and passes
those exports; then it exports everything the socket exports.  ``plug_bytes(socket, plugs)`` and
``plug_files(socket_path, plug_paths)`` do the whole thing and return the encoded component
(self-contained); their errors are :class:`~wasmlab.errors.WacError` with the reference's message.
"""

from __future__ import annotations

from pathlib import Path

from wasmlab.errors import WacError
from wasmlab.wac._aggregate import are_semver_compatible
from wasmlab.wac._binary import is_component
from wasmlab.wac._graph import CompositionGraph
from wasmlab.wac._graph_errors import GraphError
from wasmlab.wac._package import Package, PackageError, raise_if_invalid
from wasmlab.wac._types import SubtypeChecker, SubtypeError, with_causes

__all__ = ["plug_graph", "plug_bytes", "plug_files", "PlugError", "NO_PLUG_HAPPENED"]

NO_PLUG_HAPPENED = "the socket component had no matching imports for the plugs that were provided"


class PlugError(Exception):
    pass


def plug_graph(graph: CompositionGraph, plugs: list[int], socket: int) -> int:
    """Plug ``plugs`` (package ids) into ``socket``; returns the socket's instantiation node."""
    socket_node = graph.instantiate(socket)
    socket_world = graph.package(socket).ty
    for plug in plugs:
        matches = []
        checker = SubtypeChecker(set())
        for name, plug_ty in graph.package(plug).ty.exports.items():
            socket_name = name if name in socket_world.imports else next(
                (n for n in socket_world.imports if are_semver_compatible(name, n)), None)
            if socket_name is None:
                continue
            try:
                checker.is_subtype(plug_ty, socket_world.imports[socket_name])
            except SubtypeError:
                continue
            matches.append((name, socket_name))
        plug_node = None
        for plug_name, socket_name in matches:
            if plug_node is None:
                plug_node = graph.instantiate(plug)
            try:
                export = graph.alias_instance_export(plug_node, plug_name)
                graph.set_instantiation_argument(socket_node, socket_name, export)
            except GraphError as e:
                raise PlugError("an error occurred when building the composition graph") from e
    if not graph.get_instantiation_arguments(socket_node):
        raise PlugError(NO_PLUG_HAPPENED)
    for name in list(socket_world.exports):
        try:
            export = graph.alias_instance_export(socket_node, name)
            graph.export(export, name)
        except GraphError as e:
            raise PlugError("an error occurred when building the composition graph") from e
    return socket_node


def _plug_names(names: list[str]) -> list[str]:
    """``plug:NAME``, with an index appended when several plugs share a name (as wac does)."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for n in names:
        i = seen.get(n, 0)
        seen[n] = i + 1
        out.append(f"plug:{n}{i}" if counts[n] > 1 else f"plug:{n}")
    return out


def plug_bytes(socket: bytes, plugs: list[tuple[str, bytes]], *, define_components: bool = True,
               socket_name: str = "socket"):
    """Plug components (``(name, bytes)``) into a socket; returns ``(graph, encoded bytes)``.
    Errors are :class:`WacError` (a plug or socket that is not a component says which)."""
    graph = CompositionGraph()
    socket_id = _register(graph, socket_name, lambda: Package.from_bytes("socket", None, socket, graph.types),
                          socket)
    plug_ids = []
    for name, (shown, data) in zip(_plug_names([n for n, _ in plugs]), plugs):
        plug_ids.append(_register(graph, shown,
                                  lambda name=name, data=data: Package.from_bytes(name, None, data, graph.types),
                                  data))
    return graph, _plug_and_encode(graph, plug_ids, socket_id, define_components)


def plug_files(socket_path, plug_paths) -> bytes:
    """``wac plug SOCKET --plug PLUG...``: the encoded component; errors are :class:`WacError`."""
    graph = CompositionGraph()
    socket_path = Path(socket_path)
    try:
        socket_data = socket_path.read_bytes()
    except OSError as e:
        raise WacError(f"failed to read socket component `{socket_path}`: {e.strerror or e}") from None
    socket_id = _register(graph, socket_path.name,
                          lambda: Package.from_bytes("socket", None, socket_data, graph.types), socket_data)
    paths = [Path(p) for p in plug_paths]
    plug_ids = []
    for name, path in zip(_plug_names([p.stem for p in paths]), paths):
        plug_ids.append(_register(graph, path.name,
                                  lambda name=name, path=path: Package.from_file(name, None, path, graph.types),
                                  _binary_in(path)))
    return _plug_and_encode(graph, plug_ids, socket_id, True)


def _register(graph: CompositionGraph, shown: str, load, data: bytes | None) -> int:
    """Read a package (``load()``, from ``data`` when it is binary) into the graph; what is not a
    component is a WacError naming it (``shown``)."""
    try:
        if data is not None and is_component(data):
            raise_if_invalid(data)  # truncated or corrupt bytes would otherwise surface only when encoding
        package = load()
    except PackageError as exc:
        if data is None and str(exc).startswith("failed to read"):
            raise WacError(str(exc)) from None
        raise WacError(f"{shown} is not a component: {_why_not(data, str(exc))}",
                       hint=_NOT_A_COMPONENT_HINT) from None
    return graph.register_package(package)


_NOT_A_COMPONENT_HINT = "give a WebAssembly component (.wasm, or its .wat text)"


def _binary_in(path: Path) -> bytes | None:
    """The bytes of a plug file that is not WAT text (which ``Package.from_file`` would parse)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if path.suffix == ".wasm" or data.startswith(b"\0asm") else None


def _why_not(data: bytes | None, reason: str) -> str:
    """Why bytes are not a component, in words (``reason``: what reading them said)."""
    if data is not None:
        if not data:
            return "it is empty"
        if data[:4] == b"\0asm" and data[6:8] == b"\0\0":
            return "it is a core WebAssembly module (make it a component with `wasm-tools component new`)"
        if data[:4] != b"\0asm":
            return "it is not WebAssembly (no \\0asm header)"
    return reason


def _plug_and_encode(graph: CompositionGraph, plug_ids: list[int], socket_id: int, define_components: bool) -> bytes:
    try:
        plug_graph(graph, plug_ids, socket_id)
        return graph.encode(define_components=define_components)
    except (PlugError, GraphError) as exc:
        raise with_causes(WacError(str(exc)), exc.__cause__) from None
