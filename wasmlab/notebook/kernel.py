"""The "Python 3 (wasmlab)" kernel: an IPython kernel that starts with the extension loaded.

Its spec lives in ``kernels-ext/wasmlab`` (shipped inside the package as ``kernelspec``); the
installed copy runs this Python.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

__all__ = ["install_kernel", "KERNEL_NAME"]

KERNEL_NAME = "wasmlab"


def install_kernel(*, user: bool = False, sys_prefix: bool = False, prefix: str | None = None) -> str:
    """Install the kernelspec; returns where it went.  Default: the system-wide location."""
    from jupyter_client.kernelspec import KernelSpecManager

    source = files("wasmlab.notebook") / "kernelspec"
    with tempfile.TemporaryDirectory(prefix="wasmlab-kernel-") as tmp:
        staged = Path(tmp) / KERNEL_NAME
        staged.mkdir()
        for item in source.iterdir():
            if item.is_file():
                shutil.copyfile(item, staged / item.name)
        spec = json.loads((staged / "kernel.json").read_text(encoding="utf-8"))
        spec["argv"][0] = sys.executable
        (staged / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
        if sys_prefix:
            prefix = sys.prefix
        return KernelSpecManager().install_kernel_spec(str(staged), KERNEL_NAME, user=user, prefix=prefix)
