"""The wasmlab kernel: installed by the CLI, and its kernel has the magics without %load_ext."""

import json
import sys
from pathlib import Path

from helpers import run_cli


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


def test_the_stop_button_stops_running_wasm_and_the_kernel_goes_on():
    import os
    import time

    from jupyter_client.manager import start_new_kernel

    from guests import SPIN_WAT, SPIN_WIT

    manager, client = start_new_kernel(kernel_name="python3", env={**os.environ})
    try:
        setup = (f"%load_ext wasmlab\nimport wasmlab\nwasmlab.define_wit({SPIN_WIT!r})\n"
                 f"spin = wasmlab.build(world='test:spin/spin', wat={SPIN_WAT!r}, progress=False)\nspin.add(1, 1)")
        assert client.execute_interactive(setup, timeout=120)["content"]["status"] == "ok"
        kernel = manager.provisioner.process.pid
        spent = _cpu_seconds(kernel)
        # stop_on_error=False: the kernel would otherwise abort the next request if it came while it
        # still cleared its queue after this one's error
        msg_id = client.execute("spin.forever()", stop_on_error=False)
        deadline = time.monotonic() + 120
        while _cpu_seconds(kernel) - spent < 0.5:  # the spin is the only thing here that keeps a core busy
            assert time.monotonic() < deadline, "the kernel never started spinning"
            time.sleep(0.05)
        manager.interrupt_kernel()  # what the stop button does
        deadline = time.monotonic() + 60
        while True:
            reply = client.get_shell_msg(timeout=max(1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        outputs = []
        reply = client.execute_interactive("spin.add(2, 3)", timeout=60, output_hook=lambda msg: outputs.append(msg))
        assert reply["content"]["status"] == "ok"
        assert [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"] == ["5"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used (user and system), from /proc."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
