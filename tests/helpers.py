"""Helpers the tests share: the wasmlab command as a user runs it, and where the WAC conformance suite is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# bytecodealliance/wac's conformance suite: CI lays shared/ beside the checkout
WAC_CONFORMANCE = Path(os.environ.get("WASMLAB_WAC_CONFORMANCE")
                       or Path(__file__).resolve().parents[2] / "shared" / "conformance" / "wac")


def run_cli(*args: str, cwd=None, input: str | None = None) -> subprocess.CompletedProcess:
    """The wasmlab command as a user runs it (a separate process, same environment)."""
    script = Path(sys.executable).with_name("wasmlab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "wasmlab.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, input=input,
                          stdin=subprocess.DEVNULL if input is None else None, env=os.environ.copy())


def ipython_shell():
    """The test session's IPython shell, with wasmlab's extension loaded.  IPython's test shell starts once
    per process (a second ``start_ipython()`` returns None), so every test module shares this one."""
    from IPython.testing import globalipapp

    shell = globalipapp.start_ipython() or globalipapp.get_ipython()
    if "wasmlab" not in shell.extension_manager.loaded:
        shell.run_line_magic("load_ext", "wasmlab")
    return shell
