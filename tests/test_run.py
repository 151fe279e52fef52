"""Commands: wasi:cli/run components and WASI core modules, from Python and from the shell."""

import pytest

import wasmlab
from wasmlab.capabilities import Grants

from guests import HELLO_WASI_WAT
from helpers import run_cli

COMMAND_WIT = "package demo:cmd;\n\nworld cmd {\n  export wasi:cli/run@0.2.6;\n}\n"
COMMAND_PY = """\
import os
import sys


class Run:
    def run(self):
        print("args:", " ".join(sys.argv[1:]))
        print("stdin:", sys.stdin.read().strip())
        print("greeting:", os.environ.get("GREETING", "none"))
        print("to stderr", file=sys.stderr)
        if "--fail" in sys.argv:
            sys.exit(7)
"""


@pytest.fixture(scope="module")
def command():
    wasmlab.define_wit(COMMAND_WIT)
    return wasmlab.build(world="demo:cmd/cmd", python=COMMAND_PY, name="cmd", progress=False)


def test_run_passes_args_stdin_and_captures_output(command, capsys):
    command.grants = Grants().with_env(GREETING="hi")
    try:
        result = command.run("one", "two", stdin="piped text\n")
    finally:
        command.grants = Grants()
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["args: one two", "stdin: piped text", "greeting: hi"]
    assert "to stderr" in result.stderr
    assert "args: one two" in capsys.readouterr().out  # streamed into the cell as it ran


def test_exit_code_is_reported(command):
    # WASI 0.2's exit carries ok or err only: any failing exit is 1 (core modules keep full codes)
    assert command.run("--fail", echo=False).exit_code == 1


def test_functions_are_not_commands(shop):
    with pytest.raises(wasmlab.WasmlabError, match="not a command"):
        shop.run()


def test_cli_run_component_exits_with_the_guests_code(command, tmp_path):
    path = tmp_path / "cmd.wasm"
    path.write_bytes(command.wasm)
    proc = run_cli("run", "--env", "GREETING=shell", str(path), "a", "--fail", input="from shell\n")
    assert proc.returncode == 1, proc.stderr
    assert "args: a --fail" in proc.stdout
    assert "stdin: from shell" in proc.stdout
    assert "greeting: shell" in proc.stdout


def test_cli_run_core_wasi_module(tmp_path):
    wat = tmp_path / "hello.wat"
    wat.write_text(HELLO_WASI_WAT)
    proc = run_cli("run", str(wat))
    assert proc.stdout == "hello from WASI\n"
    assert proc.returncode == 3


def test_cli_run_time_limit_is_a_clear_error(tmp_path):
    wat = tmp_path / "spin.wat"
    wat.write_text('(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))')
    proc = run_cli("run", "--timeout", "0.3", str(wat))
    assert proc.returncode == 1
    assert "time limit of 0.3 s" in proc.stderr
    assert "Traceback" not in proc.stderr
