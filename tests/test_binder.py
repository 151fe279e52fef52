"""Binder: a fresh environment made only from binder/requirements.txt and binder/postBuild runs every notebook.

The test does what repo2docker does, minus Docker: a new virtual environment, ``pip install -r
binder/requirements.txt``, then ``binder/postBuild`` from a copy of the repository (which installs wasmlab
and its kernel and warms the build cache by running the notebooks once).  nbval then runs every notebook
in that environment on the "Python 3 (wasmlab)" kernel, with the cache postBuild filled.  pytest and nbval
are the only additions, at the versions this suite runs with.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOT_THE_REPO = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                      ".pytest_cache", ".ipynb_checkpoints", ".wasmlab-cache", "test-artifacts")


def _pins() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.partition("#")[0].strip()
        if line:
            name, sep, pinned = line.partition("==")
            assert sep, f"binder/requirements.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = pinned.strip()
    return pins


def test_binder_requirements_pin_every_dependency_within_its_range():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for text in project["dependencies"] + project["optional-dependencies"]["lab"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"binder/requirements.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"binder/requirements.txt pins {requirement.name}=={pins[name]}, outside {requirement.specifier}"


@pytest.mark.slow
def test_builds_work_with_the_environment_activated(tmp_path, monkeypatch):
    """On Binder the environment's bin/ is first on PATH (as in an activated venv); componentize-py must
    not pick up the SDKs installed there (spin-sdk's WIT would clash with wasmlab's WASI)."""
    from helpers import run_cli

    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    (tmp_path / "echo.wit").write_text("package demo:activated;\nworld echo { export echo: func(s: string) -> string; }\n")
    (tmp_path / "app.py").write_text("class WitWorld:\n    def echo(self, s):\n        return 'activated: ' + s\n")
    proc = run_cli("build", "--wit", "echo.wit", "--world", "echo", "--python", "app.py", "-o", "echo.wasm",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("call", "echo.wasm", 'echo("binder")', cwd=tmp_path)
    assert proc.returncode == 0 and "activated: binder" in proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    """A venv built the way repo2docker builds the image; returns its paths and postBuild's output."""
    work = tmp_path_factory.mktemp("binder")
    repo, venv, cache = work / "repo", work / "venv", work / "wasmlab-cache"
    shutil.copytree(ROOT, repo, ignore=NOT_THE_REPO)
    for sub in ("jupyter-config", "jupyter-data", "jupyter-runtime", "ipython"):
        (work / sub).mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", WASMLAB_CACHE_DIR=str(cache),
               JUPYTER_CONFIG_DIR=str(work / "jupyter-config"), JUPYTER_DATA_DIR=str(work / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(work / "jupyter-runtime"), IPYTHONDIR=str(work / "ipython"),
               JUPYTER_PLATFORM_DIRS="1", PIP_DISABLE_PIP_VERSION_CHECK="1")

    def run(*command, **kwargs):
        proc = subprocess.run([str(c) for c in command], cwd=repo, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, **kwargs)
        assert proc.returncode == 0, f"{' '.join(map(str, command))} failed:\n{proc.stdout[-4000:]}\n" \
                                     f"{proc.stderr[-4000:]}"
        return proc

    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "-r", BINDER / "requirements.txt",
        f"pytest=={version('pytest')}", f"nbval=={version('nbval')}")
    post_build = run("bash", repo / "binder" / "postBuild")
    return {"repo": repo, "venv": venv, "python": python, "cache": cache, "post_build": post_build, "run": run,
            "shared": venv / "share" / "wasmlab" / "cache"}


@pytest.mark.slow
def test_postbuild_installs_wasmlab_its_kernel_and_a_warm_cache(binder_env):
    assert "postBuild: warning" not in binder_env["post_build"].stderr, binder_env["post_build"].stderr
    binder_env["run"](binder_env["python"], "-m", "pip", "check")  # requirements.txt alone is complete
    spec = json.loads((binder_env["venv"] / "share/jupyter/kernels/wasmlab/kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (wasmlab)"
    assert Path(spec["argv"][0]) == binder_env["python"]
    # the warm cache is in the environment, where a hub's home-folder mount cannot hide it
    assert any(binder_env["shared"].rglob("*")), "postBuild left the shared build cache empty"


@pytest.mark.slow
def test_every_notebook_runs_green_under_nbval_in_the_binder_environment(binder_env):
    notebooks = sorted(p.name for p in (binder_env["repo"] / "notebooks").glob("*.ipynb"))
    assert notebooks
    shared_before = sorted(p.relative_to(binder_env["shared"]) for p in binder_env["shared"].rglob("*"))
    proc = binder_env["run"](
        binder_env["python"], "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
        "-o", "testpaths=", "--nbval", "--nbval-kernel-name", "wasmlab",
        "--nbval-sanitize-with", "notebooks/sanitize.cfg", *(f"notebooks/{name}" for name in notebooks))
    assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-4000:]
    # A user's first run is quick: nothing had to be built or compiled again after postBuild; the user's
    # own cache got no build, and the shared one was only read.
    rebuilt = [p for p in binder_env["cache"].rglob("*") if p.is_file() and p.stat().st_size > 100_000]
    assert not rebuilt, f"postBuild did not warm these builds: {sorted(map(str, rebuilt))}"
    assert sorted(p.relative_to(binder_env["shared"]) for p in binder_env["shared"].rglob("*")) == shared_before
