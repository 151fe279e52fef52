"""The wasmlab kernel: installed by the CLI, and its kernel has the magics without %load_ext."""

import json
import sys
from pathlib import Path

from conftest import run_cli


def test_install_kernel_writes_a_spec_that_preloads_the_extension(tmp_path):
    proc = run_cli("install-kernel", "--prefix", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/wasmlab/kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (wasmlab)"
    assert Path(spec["argv"][0]).resolve() == Path(sys.executable).resolve()
    shipped = json.loads((Path(__file__).parent.parent / "kernels-ext/wasmlab/kernel.json").read_text())
    assert spec["argv"][1:] == shipped["argv"][1:]  # kernels-ext's spec, run by this Python
    assert any("load_ipython_extension" in arg for arg in spec["argv"])


def test_the_kernel_runs_magics_without_load_ext(tmp_path):
    from jupyter_client.manager import start_new_kernel

    assert run_cli("install-kernel", "--prefix", str(tmp_path)).returncode == 0
    import os

    os.environ["JUPYTER_PATH"] = str(tmp_path / "share/jupyter")
    try:
        manager, client = start_new_kernel(kernel_name="wasmlab")
        try:
            reply = client.execute_interactive("%%wit\npackage demo:kernel;\nworld w { export f: func(); }\n",
                                               timeout=60)
            assert reply["content"]["status"] == "ok"
            outputs = []  # the notebooks' own %load_ext wasmlab stays silent: no "already loaded" output
            reply = client.execute_interactive("%load_ext wasmlab", timeout=60, output_hook=lambda msg:
                                               msg["msg_type"] in ("stream", "execute_result") and outputs.append(msg))
            assert reply["content"]["status"] == "ok" and outputs == []
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    finally:
        del os.environ["JUPYTER_PATH"]
