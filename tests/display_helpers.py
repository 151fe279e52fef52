"""Reading wasmlab's display bundles in tests: the pictures inside their HTML."""

from __future__ import annotations

import base64
import re

_PICTURE = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def pictures_in(html: str) -> list[str]:
    """The SVG text of every picture (``<img>`` with an SVG ``data:`` URI) in ``html``."""
    return [base64.b64decode(data).decode("utf-8") for data in _PICTURE.findall(html)]


def picture_from_src(src: str) -> str:
    """The SVG text of an ``<img>``'s ``data:image/svg+xml;base64,...`` source."""
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix), f"not an SVG data URI: {src[:60]!r}"
    return base64.b64decode(src[len(prefix):]).decode("utf-8")


def graph_nodes(svg: str) -> dict[str, str]:
    """A Graphviz SVG's nodes: each node's name (its ``<title>``) and the text it shows."""
    import xml.etree.ElementTree as ET

    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes = {}
    for group in ET.fromstring(svg.encode("utf-8")).iterfind(".//svg:g[@class='node']", ns):
        title = group.findtext("svg:title", default="", namespaces=ns)
        nodes[title] = " ".join(t.text or "" for t in group.iterfind(".//svg:text", ns))
    return nodes


def graph_edges(svg: str) -> list[str]:
    """A Graphviz SVG's edges by their ``<title>`` (``a->b``): text no reader should ever see."""
    import html
    import re as _re

    return [html.unescape(t) for t in _re.findall(r'<g id="edge\d+" class="edge">\s*<title>([^<]*)</title>', svg)]
