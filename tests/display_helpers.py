"""Reading wasmlab's display bundles in tests: the pictures inside their HTML."""

from __future__ import annotations

import base64
import re

_PICTURE = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def pictures_in(html: str) -> list[str]:
    """The SVG text of every picture (``<img>`` with an SVG ``data:`` URI) in ``html``."""
    return [base64.b64decode(data).decode("utf-8") for data in _PICTURE.findall(html)]
