"""The notebooks as stored, turned into HTML by ``jupyter nbconvert`` (what nbviewer and static sites show):
every picture is there and is a real diagram, nothing runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from display_helpers import graph_nodes, picture_from_src

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]-*.ipynb"))
_IMG_SRC = re.compile(r'<img[^>]* src="(data:image/svg\+xml;base64,[^"]+)"')


def _stored_pictures(path: Path) -> int:
    count = 0
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            count += "".join(output.get("data", {}).get("text/html", "")).count("data:image/svg+xml;base64,")
    return count


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbconvert_html_shows_every_stored_picture(path, tmp_path):
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=300)
    page = (tmp_path / path.with_suffix(".html").name).read_text(encoding="utf-8")
    pictures = [picture_from_src(src) for src in _IMG_SRC.findall(page)]
    assert len(pictures) >= _stored_pictures(path)
    for svg in pictures:
        assert svg.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in svg
        if "class=\"node\"" in svg:  # a diagram: its nodes carry words, not just shapes
            assert any(text.strip() for text in graph_nodes(svg).values())


def test_every_notebook_with_diagrams_stores_them_as_pictures():
    with_pictures = [p.name for p in NOTEBOOKS if _stored_pictures(p)]
    assert len(with_pictures) >= 6, with_pictures  # all but notebook 02 (core modules: text only) draw something
