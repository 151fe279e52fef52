"""The wasmlab command, run as a separate process the way a user runs it."""

import json
import re
import shlex
from pathlib import Path

import pytest

from wasmlab.cli.main import _parser

from cli_helpers import run_process


def run_cli(*argv: str):
    return run_process(*argv, text=True)

ADDER_WIT = "package demo:cli;\nworld adder { export add: func(a: u32, b: u32) -> u32; }\n"
ADDER_PY = "class WitWorld:\n    def add(self, a, b):\n        return a + b\n"


def test_wit_check_ok_and_located_error(tmp_path):
    good = tmp_path / "good.wit"
    good.write_text(ADDER_WIT)
    assert run_cli("wit", "check", str(good)).returncode == 0
    bad = tmp_path / "bad.wit"
    bad.write_text(ADDER_WIT.replace("u32;", "u3;"))
    proc = run_cli("wit", "check", str(bad))
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"{bad}:2:")
    assert "u3" in first
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def adder_wasm(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "adder.wit").write_text(ADDER_WIT)
    (root / "app.py").write_text(ADDER_PY)
    proc = run_cli("build", "--wit", str(root / "adder.wit"), "--world", "adder", "--python",
                   str(root / "app.py"), "-o", str(root / "adder.wasm"))
    assert proc.returncode == 0, proc.stderr
    return root / "adder.wasm"


def test_build_writes_a_component(adder_wasm):
    assert adder_wasm.read_bytes()[:8] == b"\0asm\x0d\x00\x01\x00"


def test_inspect_json_has_the_documented_keys(adder_wasm):
    proc = run_cli("inspect", str(adder_wasm), "--json")
    data = json.loads(proc.stdout)
    assert {"imports", "exports", "capabilities"} <= set(data)
    assert data["exports"]["add"]["signature"] == "func(a: u32, b: u32) -> u32"
    assert "stdio" in data["capabilities"]


def test_stub_build_from_a_wit_folder(tmp_path):
    (tmp_path / "wit").mkdir()
    (tmp_path / "wit" / "world.wit").write_text(ADDER_WIT)
    out = tmp_path / "stub.wasm"
    proc = run_cli("build", "--wit", str(tmp_path / "wit"), "--world", "adder", "--stub", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


def test_build_error_is_located_in_the_file(tmp_path):
    (tmp_path / "adder.wit").write_text(ADDER_WIT)
    (tmp_path / "app.py").write_text("class WitWorld:\n    def add(self, a, b)\n        return a\n")
    proc = run_cli("build", "--wit", str(tmp_path / "adder.wit"), "--world", "adder", "--python",
                   str(tmp_path / "app.py"), "-o", str(tmp_path / "x.wasm"))
    assert proc.returncode == 1
    located = [line for line in proc.stderr.splitlines() if line.startswith(f"{tmp_path / 'app.py'}:2:")]
    assert located and "SyntaxError" in located[0]
    assert "Traceback" not in proc.stderr


def test_inspect_refuses_a_non_component(tmp_path):
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"hello")
    proc = run_cli("inspect", str(junk))
    assert proc.returncode == 1 and "not a WebAssembly binary" in proc.stderr
    assert proc.stderr.startswith("load error: "), proc.stderr  # one kind prefix, not "error: load error:"


def test_wit_check_resolves_wasi_for_a_folder_without_deps(tmp_path):
    (tmp_path / "world.wit").write_text("package demo:env;\nworld w { import wasi:cli/environment@0.2.6; }\n")
    proc = run_cli("wit", "check", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("wit", "check", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "no such file or folder" in proc.stderr


def _readme_shell_commands() -> list[str]:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From the shell", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.startswith("wasmlab ")]


def test_the_readme_commands_parse_as_written():
    """Every ``wasmlab`` line of the README's "From the shell" parses, and ``run`` lines give
    wasmlab's options before the component (after it, they would go to the program)."""
    commands = _readme_shell_commands()
    assert any(c.startswith("wasmlab run ") for c in commands) and any(c.startswith("wasmlab wac ") for c in commands)
    for command in commands:
        argv = shlex.split(re.sub(r"\[(--?[\w-]+)\]", r"\1", command.replace("ARGS...", "arg")))[1:]
        args = _parser().parse_args(argv)
        if argv[0] == "run":
            assert args.component.endswith(".wasm") and not set(args.args) & args.own_options, command
            assert args.dir and args.env and args.timeout and args.max_memory and args.fuel, command

