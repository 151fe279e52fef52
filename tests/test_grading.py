"""An instructor grades the notebooks with nbgrader: each notebook's final check cell carries nbgrader's
autograding metadata (a locked test cell worth a point), and ``nbgrader validate`` runs a notebook and
reports by those cells whether it passes."""

from __future__ import annotations

import json
import os
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


def test_nbgrader_hands_out_the_capabilities_exercise_without_its_answer(tmp_path):
    """The instructor's notebook carries the answer in a solution cell; ``nbgrader generate_assignment``
    hands learners the notebook without it, which fails the graded check until a learner answers."""
    if not NBGRADER.exists():
        pytest.skip("nbgrader is not installed (pip install nbgrader; it is in the test extra)")
    course = tmp_path / "course"
    (course / "source" / "caps").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "03-capabilities.ipynb", course / "source" / "caps")
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "wasm"\n')
    done = subprocess.run([str(NBGRADER), "generate_assignment", "caps", "--force"], capture_output=True,
                          text=True, cwd=course, timeout=600,
                          env={**os.environ, "PATH": f"{NBGRADER.parent}{os.pathsep}{os.environ['PATH']}"})  # its alembic
    released = course / "release" / "caps" / "03-capabilities.ipynb"
    assert released.exists(), done.stdout + done.stderr
    answer = next(c for c in _cells(released) if c["metadata"].get("nbgrader", {}).get("solution"))
    assert "### BEGIN SOLUTION" not in "".join(answer["source"])
    assert "with_env(" not in "".join(answer["source"]) and "raise NotImplementedError" in "".join(answer["source"])

    report = _validate(released)
    assert "VALIDATION FAILED ON 1 CELL(S)" in report and "name 'answer' is not defined" in report, report[-2000:]

    def learner_answers(answer: str) -> str:
        notebook = json.loads(released.read_text())
        cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
        cell["source"] = "".join(cell["source"]).replace("raise NotImplementedError()", f"answer = {answer}")
        answered = tmp_path / "answered.ipynb"
        answered.write_text(json.dumps(notebook))
        return _validate(answered)

    report = learner_answers('wasmlab.Grants().with_dir(config, "/config", read_only=True).with_env(LEVEL="3")')
    assert "Success! Your notebook passes all the tests." in report
    report = learner_answers('wasmlab.Grants().with_dir(config, "/config").with_env(LEVEL="3")')
    assert "VALIDATION FAILED ON 1 CELL(S)" in report and "make the directory read-only" in report, report[-2000:]
