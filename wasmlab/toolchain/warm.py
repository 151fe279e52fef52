"""Warming a build cache: every build and compile that notebooks need, done ahead of their users.

Each notebook runs headlessly, cell after cell, in a child process of its own (an IPython shell
with wasmlab's magics loaded, as the "Python 3 (wasmlab)" kernel has them), on a copy of its
folder so that nothing it writes lands next to it.  What its cells build and compile goes into the
cache as it would in a notebook, so a user's first run finds it: ``wasmlab warm notebooks/`` in
Binder's ``postBuild`` or an image build, then ``WASMLAB_SHARED_CACHE`` to share it read-only.
A cell that raises does not stop the rest (teaching notebooks show errors on purpose); a notebook
whose process dies or runs out of time is reported and the next one runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from wasmlab.errors import WasmlabError
from wasmlab.progress import Progress

__all__ = ["warm", "NotebookRun"]

_COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", ".ipynb_checkpoints")


@dataclass
class NotebookRun:
    """How one notebook's headless run went."""

    path: Path
    cells: int = 0
    ran: int = 0
    raised: int = 0
    seconds: float = 0.0
    problem: str | None = None  # the run did not finish: a crash or a time-out

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem:
            return f"{self.path}: {self.problem} after {self.ran} of {self.cells} cells"
        raised = f", {self.raised} raised" if self.raised else ""
        return f"{self.path}: {self.ran} cells ran in {self.seconds:.1f} s{raised}"


def notebooks(paths) -> list[Path]:
    """The notebooks named by ``paths``: files as given, folders searched for ``*.ipynb``."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.is_file():
            found.append(path)
        else:
            raise WasmlabError(f"{path}: no such notebook or folder")
    if not found:
        raise WasmlabError("no notebooks to warm the cache with", hint="name .ipynb files or folders holding them")
    return found


def warm(paths, *, timeout: float = 900, progress: bool = True) -> list[NotebookRun]:
    """Run every notebook in ``paths`` headlessly so that the build cache holds what they build."""
    return [_run_notebook(path, timeout=timeout, progress=progress) for path in notebooks(paths)]


def _run_notebook(path: Path, *, timeout: float, progress: bool) -> NotebookRun:
    run = NotebookRun(path)
    try:
        run.cells = len(_code_cells(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        run.problem = f"not a readable notebook ({exc})"
        return run
    reporter = Progress(f"warming {path.name}", enabled=progress)
    reporter.stage(f"cell 0 of {run.cells}")
    with tempfile.TemporaryDirectory(prefix="wasmlab-warm-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(path.parent, work, ignore=_COPY_IGNORE, symlinks=True)
        with open(Path(tmp) / "log", "w+b") as log:
            child = subprocess.Popen([sys.executable, "-m", "wasmlab.toolchain.warm", path.name], cwd=work,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True)
            timed_out = threading.Event()
            timer = threading.Timer(timeout, lambda: (timed_out.set(), child.kill()))
            timer.start()
            try:
                for line in child.stdout:  # one line per cell, written by _execute
                    record = json.loads(line)
                    run.ran, run.raised = record["cell"], run.raised + record["raised"]
                    reporter.stage(f"cell {run.ran} of {run.cells}")
                code = child.wait()
            except BaseException:
                child.kill()
                child.wait()
                raise
            finally:
                timer.cancel()
            if timed_out.is_set():
                run.problem = f"timed out after {timeout:.0f} s"
            elif code != 0 or run.ran < run.cells:
                log.seek(0)
                tail = log.read().decode("utf-8", errors="replace").strip().splitlines()[-1:]
                run.problem = f"its process ended with code {code}" + (f" ({tail[0].strip()})" if tail else "")
    run.seconds = reporter.elapsed
    reporter.done(run.summary())
    return run


def _code_cells(path: Path) -> list[str]:
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    return ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _execute(notebook: str) -> None:
    """The child: run the notebook's code cells in an IPython shell; one JSON line per cell on stdout."""
    from IPython.core.interactiveshell import InteractiveShell

    report = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what the cells print goes to the log, not into the progress lines
    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("wasmlab")  # as the wasmlab kernel preloads it
    for number, source in enumerate(_code_cells(Path(notebook)), 1):
        result = shell.run_cell(source, store_history=True)
        report.write(json.dumps({"cell": number, "raised": int(not result.success)}) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    report.flush()
    os._exit(0)  # as the wasmlab command does: wasmtime's worker threads may abort a slow teardown


if __name__ == "__main__":
    _execute(sys.argv[1])
