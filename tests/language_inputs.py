"""Inputs for the language tests: the WAC conformance documents and the WIT of the notebooks' ``%%wit`` cells."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import WAC_CONFORMANCE

ROOT = Path(__file__).resolve().parents[1]


def wac_documents() -> list[Path]:
    """Every document of the conformance suite, passing and failing cases."""
    return sorted(WAC_CONFORMANCE.glob("*/*.wac")) + sorted(WAC_CONFORMANCE.glob("*/fail/*.wac"))


def notebook_wit_cells() -> list[str]:
    """The WIT of every ``%%wit`` cell of the teaching notebooks (the magic line removed)."""
    cells = []
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code" and source.startswith("%%wit"):
                cells.append(source.partition("\n")[2])
    return cells
