"""Rich display for notebook objects: one MIME bundle each, always with a text/plain fallback."""

from __future__ import annotations

import html

from .graph import RenderError, composition_graph, world_graph

__all__ = ["wit_definition_bundle", "component_bundle", "composition_bundle", "html_section"]

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


def wit_definition_bundle(defn) -> dict:
    plain = defn.text
    parts = [html_section("WIT " + ", ".join(p.name for p in defn.packages), _pre(defn.text))]
    for world in defn.worlds:
        parts.append(html_section(f"world {world.qualified_name}", _svg(world_graph(world))))
    return {"text/plain": plain, "text/html": "".join(parts)}


def component_bundle(component) -> dict:
    plain = component.summary()
    parts = [html_section(f"component {component.name}", _pre(plain))]
    world = component.world
    if world is not None:
        parts.append(_svg(world_graph(world, title=component.name)))
    parts.append("<details><summary>WIT of its world</summary>" + _pre(component.wit) + "</details>")
    return {"text/plain": plain, "text/html": "".join(parts)}


def composition_bundle(composition) -> dict:
    plain = composition.text()
    parts = [html_section(f"composition {composition.name}", _svg(composition_graph(composition)))]
    parts.append("<details><summary>as text</summary>" + _pre(plain) + "</details>")
    if composition.component is not None:
        parts.append(component_bundle(composition.component)["text/html"])
    return {"text/plain": plain, "text/html": "".join(parts)}
