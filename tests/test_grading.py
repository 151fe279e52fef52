"""An instructor grades the notebooks with nbgrader: each notebook's final check cell carries nbgrader's
autograding metadata (a locked test cell worth a point), and ``nbgrader validate`` runs a notebook and
reports by those cells whether it passes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from registry_server import require_registry

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
NBGRADER = Path(sys.executable).with_name("nbgrader")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _check_cells(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["cell_type"] == "code" and "assert " in "".join(c["source"])]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _check_cells(p)], ids=lambda p: p.name)
def test_the_final_check_cell_is_an_autograded_test(path):
    nbformat = pytest.importorskip("nbformat")
    from nbgrader.nbgraderformat import MetadataValidator

    notebook = nbformat.read(str(path), as_version=4)
    MetadataValidator().validate_nb(notebook)  # nbgrader's own schema check
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(graded) == 1, f"{path.name}: one graded cell, not {len(graded)}"
    meta = graded[0].metadata["nbgrader"]
    assert graded[0].source == "".join(_check_cells(path)[-1]["source"])
    assert meta["locked"] and meta["points"] > 0 and meta["grade_id"] == f"check-{path.stem.replace('.', '_')}"


def _validate(notebook: Path, *options: str) -> str:
    if not NBGRADER.exists():
        pytest.skip("nbgrader is not installed (pip install nbgrader; it is in the test extra)")
    done = subprocess.run([str(NBGRADER), "validate", *options, str(notebook)], capture_output=True, text=True,
                          cwd=notebook.parent, timeout=600)
    return done.stdout + done.stderr


def test_nbgrader_passes_a_finished_notebook_and_fails_a_broken_one(tmp_path):
    require_registry()  # notebook 08 starts a registry of its own
    finished = tmp_path / "08-registries.ipynb"
    shutil.copy(ROOT / "notebooks" / "08-registries.ipynb", finished)
    assert "Success! Your notebook passes all the tests." in _validate(finished)

    notebook = json.loads(finished.read_text())
    learner = next(c for c in notebook["cells"] if c["cell_type"] == "code"
                   and "again = " in "".join(c["source"]) and not c["metadata"].get("nbgrader"))
    learner["source"] = "".join(learner["source"]) + "\nagain = None  # a learner's slip\n"
    broken = tmp_path / "broken.ipynb"
    broken.write_text(json.dumps(notebook))
    report = _validate(broken)
    assert "VALIDATION FAILED ON 1 CELL(S)!" in report and "again.calculate" in report, report[-2000:]
