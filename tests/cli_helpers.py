"""Running the ``wasmlab`` command in tests: in this process through ``main(argv)`` (the code the
command runs, fast), or as its own process (exit status, signals, bytes on the command line)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

from wasmlab.cli.main import main


def run_main(*argv: str) -> tuple[int, str, str]:
    """``wasmlab ARGV...`` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_process(*argv: str, timeout: float = 300, **options) -> subprocess.CompletedProcess:
    """``python -m wasmlab.cli ARGV...`` as its own process, output as bytes; arguments may hold
    bytes that are not UTF-8 (as ``os.fsdecode`` gives them: lone surrogates)."""
    command = [sys.executable, "-m", "wasmlab.cli", *[os.fsencode(a) for a in argv]]
    return subprocess.run(command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, **options)
