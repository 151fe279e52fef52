"""Rich display for notebook objects: one MIME bundle each, always with a text/plain fallback.

Importing this module registers the bundles, widgets and pictures with :mod:`wasmlab.views`,
through which the objects of the lower layers display themselves.
"""

from __future__ import annotations

import html

from wasmlab.capabilities import CapabilityReport
from wasmlab.composition import Composition
from wasmlab.notebook.pictures import RenderError, capability_graph, composition_graph, world_graph
from wasmlab.runtime.component import Component
from wasmlab.runtime.node_engine import EngineComparison, brief
from wasmlab.toolchain.wit import WitDefinition
from wasmlab.views import offers, shows

__all__ = ["wit_definition_bundle", "component_bundle", "composition_bundle", "capability_report_bundle",
           "html_section"]

_STYLE = ("font-family: var(--jp-code-font-family, monospace); font-size: 12px; "
          "background: var(--jp-layout-color2, #f5f5f5); padding: 6px; border-radius: 4px; overflow-x: auto")


def html_section(title: str, body: str) -> str:
    return f'<div style="margin: 4px 0"><b>{html.escape(title)}</b>{body}</div>'


def _pre(text: str) -> str:
    return f'<pre style="{_STYLE}">{html.escape(text)}</pre>'


def _svg(graph) -> str:
    try:
        return graph.svg()
    except RenderError as exc:
        return f"<i>(no picture: {html.escape(str(exc))})</i>"


@shows(WitDefinition)
def wit_definition_bundle(defn) -> dict:
    plain = defn.text
    parts = [html_section("WIT " + ", ".join(p.name for p in defn.packages), _pre(defn.text))]
    for world in defn.worlds:
        parts.append(html_section(f"world {world.qualified_name}", _svg(world_graph(world))))
    return {"text/plain": plain, "text/html": "".join(parts)}


@shows(Component)
def component_bundle(component) -> dict:
    plain = component.summary()
    parts = [html_section(f"component {component.name}", _pre(plain))]
    world = component.world
    if world is not None:
        parts.append(_svg(world_graph(world, title=component.name)))
    parts.append("<details><summary>WIT of its world</summary>" + _pre(component.wit) + "</details>")
    return {"text/plain": plain, "text/html": "".join(parts)}


@shows(Composition)
def composition_bundle(composition) -> dict:
    plain = composition.text()
    parts = [html_section(f"composition {composition.name}", _svg(composition_graph(composition)))]
    parts.append("<details><summary>as text</summary>" + _pre(plain) + "</details>")
    if composition.component is not None:
        parts.append(component_bundle(composition.component)["text/html"])
    return {"text/plain": plain, "text/html": "".join(parts)}


@shows(CapabilityReport)
def capability_report_bundle(report) -> dict:
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in report.rows())
    table = ("<table><tr><th>capability</th><th>asked</th><th>granted</th><th>used</th></tr>"
             f"{rows}</table>")
    if report.note:
        table += f"<p><i>{html.escape(report.note)}</i></p>"
    try:
        picture = report.graph().svg()
    except RenderError:
        picture = ""
    return {"text/plain": report.table(), "text/html": picture + table}


offers("capability graph")(capability_graph)
offers("composition graph")(composition_graph)


@offers("grants panel")
def grants_panel(component):
    from wasmlab.notebook.widgets import GrantsPanel  # ipywidgets only when a widget is asked for

    return GrantsPanel(component)


@offers("call form")
def call_form(function):
    from wasmlab.notebook.widgets import CallForm

    return CallForm(function)


@offers("call forms")
def call_forms(component):
    from wasmlab.notebook.widgets import call_forms as forms

    return forms(component)


@shows(EngineComparison)
def engine_comparison_bundle(comparison) -> dict:
    head = "".join(f"<th>{h}</th>" for h in ("call", "wasmtime", "Node", "same", "wasmtime µs/call", "Node µs/call"))
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            r["call"], brief(r["wasmtime"]), brief(r["node"]), "yes" if r["same"] else "NO",
            f"{r['wasmtime_seconds'] * 1e6:.1f}", f"{r['node_seconds'] * 1e6:.1f}")) + "</tr>"
        for r in comparison.rows)
    note = (f"<p><i>{comparison.component_name}: times are averages over {comparison.repeat} calls; wasmtime's as "
            "Python calls it through wasmlab, Node's inside V8 (no round trip).</i></p>")
    return {"text/plain": repr(comparison), "text/html": f"<table><tr>{head}</tr>{rows}</table>{note}"}
