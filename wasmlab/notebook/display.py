"""Rich display for notebook objects: one MIME bundle each, always with a text/plain fallback.

Importing this module registers the bundles, widgets and pictures with :mod:`wasmlab.views`,
through which the objects of the lower layers display themselves.

The HTML must read the same in a notebook nobody has run yet: JupyterLab sanitises the HTML of an
untrusted notebook (one opened from disk), GitHub and nbviewer show stored outputs too.  So a picture
is an ``<img>`` whose source is the SVG as a ``data:`` URI (the sanitiser drops inline ``<svg>``, and
an ``image/svg+xml`` output is not shown untrusted at all), and the rest is plain tags the sanitiser
keeps (tables, ``<pre>``, ``<details>``).

>>> html_table(["name", "size"], [("a.wasm", 3)])
'<table><tr><th>name</th><th>size</th></tr><tr><td>a.wasm</td><td>3</td></tr></table>'
>>> picture_html("<svg/>").startswith('<img src="data:image/svg+xml;base64,')
True
"""

from __future__ import annotations

import base64
import html
import re

from wasmlab.capabilities import CapabilityReport
from wasmlab.composition import Composition
from wasmlab.course.http_versions import HttpComparison
from wasmlab.notebook.pictures import Graph, RenderError, capability_graph, composition_graph, world_graph
from wasmlab.runtime.component import Component
from wasmlab.runtime.engines import RunResult
from wasmlab.runtime.node_engine import EngineComparison, brief
from wasmlab.runtime.perf import SVGChart
from wasmlab.runtime.wasmtime_command import HttpResponse, Server
from wasmlab.toolchain.wit import WitDefinition
from wasmlab.views import offers, shows

__all__ = ["html_section", "html_table", "picture_html", "wit_definition_bundle", "component_bundle",
           "composition_bundle", "capability_report_bundle"]

_STYLE = ("font-family: var(--jp-code-font-family, monospace); font-size: 12px; "
          "background: var(--jp-layout-color2, #f5f5f5); padding: 6px; border-radius: 4px; overflow-x: auto")


def html_section(title: str, body: str) -> str:
    return f'<div style="margin: 4px 0"><b>{html.escape(title)}</b>{body}</div>'


def html_table(head, rows) -> str:
    """The one HTML table of wasmlab's displays: a header row, then the rows (cells as text)."""
    def row(cells, tag):
        return "<tr>" + "".join(f"<{tag}>{html.escape(str(cell))}</{tag}>" for cell in cells) + "</tr>"

    return "<table>" + row(head, "th") + "".join(row(r, "td") for r in rows) + "</table>"


def _pre(text: str) -> str:
    return f'<pre style="{_STYLE}">{html.escape(text)}</pre>'


_SVG_TITLE = re.compile(r"<title>([^<]*)</title>")


def picture_html(svg: str, *, alt: str = "") -> str:
    """An SVG picture as HTML that survives sanitising: an ``<img>`` with a ``data:`` URI."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            'style="max-width: 100%">')


def _picture(graph: Graph, alt: str) -> str:
    try:
        return picture_html(graph.svg(), alt=alt)
    except RenderError as exc:
        return f"<i>(no picture: {html.escape(str(exc))})</i>"


@shows(Graph)
def graph_bundle(graph) -> dict:
    bundle = {"text/plain": graph.source}
    try:
        svg = graph.svg()
    except RenderError:
        return bundle
    match = _SVG_TITLE.search(svg)
    return {**bundle, "text/html": picture_html(svg, alt=html.unescape(match.group(1)) if match else "graph"),
            "image/svg+xml": svg}


@shows(SVGChart)
def chart_bundle(chart) -> dict:
    svg = chart.svg()
    return {"text/plain": repr(chart), "text/html": picture_html(svg, alt=chart.title), "image/svg+xml": svg}


@shows(WitDefinition)
def wit_definition_bundle(defn) -> dict:
    parts = [html_section("WIT " + ", ".join(p.name for p in defn.packages), _pre(defn.text))]
    for world in defn.worlds:
        parts.append(html_section(f"world {world.qualified_name}",
                                  "<br>" + _picture(world_graph(world), f"world {world.qualified_name}")))
    return {"text/plain": defn.text, "text/html": "".join(parts)}


@shows(Component)
def component_bundle(component) -> dict:
    plain = component.summary()
    parts = [html_section(f"component {component.name}", _pre(plain))]
    if component.world is not None:
        parts.append(_picture(world_graph(component.world, title=component.name), f"component {component.name}"))
    parts.append("<details><summary>WIT of its world</summary>" + _pre(component.wit) + "</details>")
    return {"text/plain": plain, "text/html": "".join(parts)}


@shows(Composition)
def composition_bundle(composition) -> dict:
    plain = composition.text()
    parts = [html_section(f"composition {composition.name}",
                          "<br>" + _picture(composition_graph(composition), f"composition {composition.name}"))]
    parts.append("<details><summary>as text</summary>" + _pre(plain) + "</details>")
    if composition.component is not None:
        parts.append(component_bundle(composition.component)["text/html"])
    return {"text/plain": plain, "text/html": "".join(parts)}


@shows(CapabilityReport)
def capability_report_bundle(report) -> dict:
    table = html_table(("capability", "asked", "granted", "used"), report.rows())
    if report.note:
        table += f"<p><i>{html.escape(report.note)}</i></p>"
    try:
        picture = picture_html(report.graph().svg(), alt=f"capabilities of {report.name}")
    except RenderError:
        picture = ""
    return {"text/plain": report.table(), "text/html": picture + table}


@shows(RunResult)
def run_result_bundle(result) -> dict:
    head = f"exit code {result.exit_code}"
    if result.report is None:
        return {"text/plain": head}
    report = capability_report_bundle(result.report)
    return {"text/plain": f"{head}\n{report['text/plain']}",
            "text/html": f"<p><b>{html.escape(head)}</b></p>{report['text/html']}"}


@shows(HttpResponse)
def http_response_bundle(response) -> dict:
    head = "<br>".join(html.escape(f"{k}: {v}") for k, v in response.headers if k.lower() != "date")
    return {"text/plain": repr(response),
            "text/html": f"<div><b>HTTP {response.status} {html.escape(response.reason)}</b><br>"
                         f"<span style='color:#666'>{head}</span>{_pre(response.text)}</div>"}


@shows(Server)
def server_bundle(server) -> dict:
    """A served component, with the link the learner's browser opens (through the Jupyter server's
    proxy on a hub or Binder)."""
    link = server.browser_url or server.url
    return {"text/plain": f"{server!r}\nopen it: {link}",
            "text/html": f'<p>{html.escape(repr(server))}: <a href="{html.escape(link)}" target="_blank">'
                         f"{html.escape(link)}</a></p>"}


@shows(HttpComparison)
def http_comparison_bundle(comparison) -> dict:
    return {"text/plain": repr(comparison), "text/html": html_table(comparison.HEAD, comparison.rows())}


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
