"""What of deploy/ can be checked without a cluster: the Zero to JupyterHub values parse and agree with
binder/ (the image's recipe) and with the cache it warms; every learner link names a real notebook."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = {"K": 2**10, "M": 2**20, "G": 2**30}


def _bytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG])", str(text)).groups()
    return int(float(number) * UNITS[unit])


def _values() -> dict:
    return yaml.safe_load((DEPLOY / "config.yaml").read_text())


def test_the_hub_runs_the_image_built_from_binder_with_the_wasmlab_kernel_at_lab():
    single = _values()["singleuser"]
    assert single["image"]["name"] and str(single["image"]["tag"])
    assert single["defaultUrl"] == "/lab"
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "wasmlab install-kernel --sys-prefix" in post_build


def test_the_shared_cache_is_the_one_postbuild_warms():
    cache = _values()["singleuser"]["extraEnv"]["WASMLAB_SHARED_CACHE"]
    # repo2docker's environment is /srv/conda/envs/notebook; postBuild warms $NB_PYTHON_PREFIX/share/wasmlab/cache
    assert cache == "/srv/conda/envs/notebook/share/wasmlab/cache"
    assert "share/wasmlab/cache" in (ROOT / "binder" / "postBuild").read_text()


def test_resource_requests_are_consistent():
    single = _values()["singleuser"]
    assert 0 < _bytes(single["memory"]["guarantee"]) <= _bytes(single["memory"]["limit"])
    assert 0 < float(single["cpu"]["guarantee"]) <= float(single["cpu"]["limit"])


def test_every_notebook_has_a_learner_link_and_every_link_names_a_notebook():
    links = (DEPLOY / "links.md").read_text()
    paths = {urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["urlpath"][0]
             for url in re.findall(r"https://HUB/hub/user-redirect/git-pull\?\S+", links)}
    named = {Path(p).name for p in paths}
    notebooks = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert named == notebooks
    assert all(p.startswith("lab/tree/wasmlab/notebooks/") for p in paths)
