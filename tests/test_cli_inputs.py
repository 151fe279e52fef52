"""Nothing a user types at the ``wasmlab`` command crashes, hangs or prints a traceback.

Every command that reads or writes a file is given files of every wrong kind; flags get
malformed values; text gets bytes that are not UTF-8; the API's functions get values of the
wrong type.  Exit codes: 0 success, 1 an error the user can fix, 2 a usage error, 70 a bug in
wasmlab (never expected here), 130 Ctrl-C.  Most cases run in-process through ``main(argv)``
(the same code the command runs); the ones about the process itself run ``python -m wasmlab.cli``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import wasmlab
from wasmlab.capabilities import Grants, Limits
from wasmlab.cli import shell
from wasmlab.cli.main import _parser as command_parser

from cli_helpers import run_main, run_process

ADDER_WAT = """(component
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (export "add" (func $add)))
"""
ADDER_WIT = "package demo:inputs;\nworld adder { export add: func(a: u32, b: u32) -> u32; }\n"
EXIT_3 = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 3))))
"""
# says "ready" on stdout, then loops until stopped
READY_THEN_LOOP = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ready\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop br 0)))
"""
NOT_UTF8 = os.fsdecode(b"\xff")  # what Python makes of a command-line byte that is not UTF-8: "\udcff"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("inputs")
    made = {
        "adder.wat": ADDER_WAT, "adder.wit": ADDER_WIT, "exit3.wat": EXIT_3, "loop.wat": READY_THEN_LOOP,
        "doc.wac": "package ex:app;\n",
    }
    for name, text in made.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "latin1.txt").write_bytes("caf\xe9 = 1\n".encode("latin-1"))  # text, but not UTF-8
    (root / "binary.bin").write_bytes(b"\0asm\x01\0\0\0")  # valid UTF-8, but a binary file
    (root / "folder").mkdir()
    (root / "outfolder").mkdir()
    (root / "afile").write_text("x")
    undecodable = root / f"{NOT_UTF8}-adder.wat"  # a real file whose name is not UTF-8
    undecodable.write_text(ADDER_WAT, encoding="utf-8")
    paths = {name.replace(".wit", "_wit").split(".")[0]: str(root / name)
             for name in [*made, "latin1.txt", "binary.bin"]}
    paths.update(root=str(root), folder=str(root / "folder"), outfolder=str(root / "outfolder"),
                 afile=str(root / "afile"), missing=str(root / "missing.txt"), undecodable=str(undecodable),
                 missing_undecodable=str(root / f"{NOT_UTF8}.wasm"), device="/dev/zero", empty="")
    return paths


def assert_clean_failure(code: int, err: str, expected: int) -> None:
    assert code == expected, err
    assert "Traceback" not in err and "bug in wasmlab" not in err, err
    assert err.strip(), "an error says what went wrong"


# ---------------------------------------------------------------------------- files of every wrong kind

# every place a command reads a file: {P} is the file
READERS = {
    "wit check": ["wit", "check", "{P}"],
    "build --wit": ["build", "--wit", "{P}", "--world", "adder", "--stub", "-o", "{root}/out.wasm"],
    "build --python": ["build", "--wit", "{adder}", "--world", "adder", "--python", "{P}", "-o", "{root}/out.wasm"],
    "build --wat": ["build", "--wit", "{adder}", "--world", "adder", "--wat", "{P}", "-o", "{root}/out.wasm"],
    "inspect": ["inspect", "{P}"],
    "call": ["call", "{P}", "add(1, 2)"],
    "run": ["run", "{P}"],
    "wac parse": ["wac", "parse", "{P}"],
    "wac resolve": ["wac", "resolve", "{P}"],
    "wac compose": ["wac", "compose", "{P}", "-o", "{root}/out.wasm"],
    "wac plug socket": ["wac", "plug", "{P}", "--plug", "{adder}", "-o", "{root}/out.wasm"],
    "wac plug plug": ["wac", "plug", "{adder}", "--plug", "{P}", "-o", "{root}/out.wasm"],
}
TEXT_READERS = {"wit check", "build --wit", "build --python", "build --wat", "wac parse", "wac resolve",
                "wac compose"}
BAD_FILES = ["missing", "folder", "latin1", "binary", "missing_undecodable", "device", "empty"]


def _fill(template: list[str], files: dict[str, str], path: str) -> list[str]:
    return [part.format(P=path, root=files["root"], adder=files["adder_wit" if template[i - 1] == "--wit" else "adder"])
            for i, part in enumerate(template)]


@pytest.mark.parametrize("bad", BAD_FILES)
@pytest.mark.parametrize("reader", list(READERS))
def test_every_reader_refuses_every_wrong_file_in_one_line(files, reader, bad):
    code, _, err = run_main(*_fill(READERS[reader], files, files[bad]))
    assert_clean_failure(code, err, 1)
    first = err.splitlines()[0]
    if bad in ("missing", "missing_undecodable"):
        assert "no such file" in first
    elif bad == "empty":  # "" would be the current folder to pathlib
        assert "path is empty" in first
    elif bad == "device":  # /dev/zero: reading it would never end
        assert "it is a device" in first
    elif bad == "folder":  # a WIT folder is a package: the WIT checks say what is missing in it
        assert ("no `package` header" if reader in ("wit check", "build --wit") else "it is a folder") in first
    elif reader in TEXT_READERS:
        assert ("not UTF-8 text" if bad == "latin1" else "binary file") in first, err


# every place a command writes a file: {O} is the output
WRITERS = {
    "build -o": ["build", "--wit", "{adder}", "--world", "adder", "--stub", "-o", "{O}"],
    "wac compose -o": ["wac", "compose", "{doc}", "-o", "{O}"],
    "wac plug -o": ["wac", "plug", "{adder_wat}", "--plug", "{adder_wat}", "-o", "{O}"],
    "install-kernel --prefix": ["install-kernel", "--prefix", "{O}"],
}
BAD_OUTPUTS = {
    "named by an empty string": ("", "path is empty"),
    "into a missing folder": ("{root}/no-such-folder/out.wasm", "does not exist"),
    "onto a folder": ("{outfolder}", "it is a folder"),
    "under a file": ("{afile}/out.wasm", "is a file, not a folder"),
}


@pytest.mark.parametrize("bad", list(BAD_OUTPUTS))
@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_refuses_an_unwritable_output_before_working(files, writer, bad):
    path, said = BAD_OUTPUTS[bad]
    output = path.format(**files)
    argv = [part.format(O=output, adder=files["adder_wit"], doc=files["doc"], adder_wat=files["adder"])
            for part in WRITERS[writer]]
    code, _, err = run_main(*argv)
    if writer == "install-kernel --prefix" and bad == "named by an empty string":
        assert_clean_failure(code, err, 2)  # jupyter would take "" for the system-wide place
        return
    if writer == "install-kernel --prefix" and bad != "under a file":
        assert code == 0, err  # a prefix is a folder, made when missing: the kernel goes under it
        assert Path(output, "share", "jupyter", "kernels", "wasmlab", "kernel.json").is_file()
        return
    assert_clean_failure(code, err, 1)
    if writer != "install-kernel --prefix":
        assert said in err.splitlines()[0]
        assert "wasmlab:" not in err, "refused before any work (no build progress)"


def test_a_file_whose_name_is_not_utf8_works(files):
    proc = run_process("inspect", files["undecodable"])
    assert proc.returncode == 0, proc.stderr
    assert b"add: func(a: u32, b: u32) -> u32" in proc.stdout
    assert b"\\udcff-adder" in proc.stdout  # the name, escaped where it is printed


# ---------------------------------------------------------------------------- text that is not text

@pytest.mark.parametrize("argv, named", [
    (["run", "--env", f"A={NOT_UTF8}", "{exit3}"], "--env"),
    (["run", "--env", f"{NOT_UTF8}=1", "{exit3}"], "--env"),
    (["run", "{exit3}", f"x{NOT_UTF8}"], "the program argument"),
    (["run", "--dir", f"{{root}}::/{NOT_UTF8}", "{exit3}"], "--dir"),
    (["call", "{adder}", f'add("{NOT_UTF8}", 1)'], "the call expression"),
    (["build", "--wit", "{adder_wit}", "--world", f"adder{NOT_UTF8}", "--stub", "-o", "{root}/o.wasm"], "the world"),
])
def test_undecodable_bytes_in_text_arguments_are_usage_errors(files, argv, named):
    filled = [a.format(**files) for a in argv]
    code, _, err = run_main(*filled)
    assert_clean_failure(code, err, 2)
    assert named in err and "not valid UTF-8" in err and "\\udcff" in err


def test_a_host_variable_passed_through_must_be_text(files, monkeypatch):
    monkeypatch.setenv("WASMLAB_TEST_UNDECODABLE", NOT_UTF8)
    code, _, err = run_main("run", "--env", "WASMLAB_TEST_UNDECODABLE", files["exit3"])
    assert_clean_failure(code, err, 2)
    assert "--env WASMLAB_TEST_UNDECODABLE: the host's value" in err


def test_undecodable_bytes_through_a_real_process(files):
    proc = run_process("run", "--env", f"A={NOT_UTF8}", files["exit3"])
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr, proc.stderr
    assert b"not valid UTF-8" in proc.stderr


# ---------------------------------------------------------------------------- flags with wrong values

def _refused_by(make) -> bool:
    try:
        make()
    except wasmlab.WasmlabError:
        return True
    return False


# (flag, value, does Grants/Limits refuse it? None: argparse does)
MALFORMED_FLAGS = [
    ("--timeout", "abc", None), ("--timeout", "", None), ("--timeout", "1s", None),
    ("--timeout", "nan", lambda: Limits(timeout=float("nan"))), ("--timeout", "-1", lambda: Limits(timeout=-1.0)),
    ("--fuel", "abc", None), ("--fuel", "1.5", None), ("--fuel", "-5", lambda: Limits(fuel=-5)),
    ("--max-memory", "abc", lambda: Limits(max_memory="abc")), ("--max-memory", "", lambda: Limits(max_memory="")),
    ("--max-memory", "-1M", lambda: Limits(max_memory="-1M")),
    ("--dir", "no-such-folder", lambda: Grants().with_dir("no-such-folder")),
    ("--dir", "{afile}::/data", lambda: Grants().with_dir(__file__, "/data")),
    ("--dir", "::/data", lambda: Grants().with_dir("", "/data")),
    ("--ro-dir", "no-such-folder::/x", lambda: Grants().with_dir("no-such-folder", "/x", read_only=True)),
    ("--env", "=value", lambda: Grants().with_env(**{"": "value"})),
    ("--env", "A\0B=1", lambda: Grants().with_env(**{"A\0B": "1"})),
]


@pytest.mark.parametrize("command", ["run", "call"])
@pytest.mark.parametrize("flag, value, refuses", MALFORMED_FLAGS,
                         ids=[f"{flag}={value!r}" for flag, value, _ in MALFORMED_FLAGS])
def test_a_malformed_flag_value_is_a_usage_error_with_the_fix(files, command, flag, value, refuses):
    if refuses is not None and not _refused_by(refuses):
        pytest.skip(f"Grants/Limits do not refuse {flag} {value!r} yet (their validation is helper A2's)")
    value = value.format(afile=files["afile"])
    target = [files["exit3"]] if command == "run" else [files["adder"], "add(1, 2)"]
    code, _, err = run_main(command, f"{flag}={value}" if value.startswith("-") else flag, *(
        [] if value.startswith("-") else [value]), *target)
    assert_clean_failure(code, err, 2)
    assert err.startswith("usage: ") and f"wasmlab {command}: error:" in err
    assert flag in err and "hint: " in err


# ---------------------------------------------------------------------------- wasmtime's order of options

def test_options_go_before_the_component_and_stop_an_endless_loop(files):
    proc = run_process("run", "--timeout", "0.5", files["loop"], timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert b"time limit" in proc.stderr and b"Traceback" not in proc.stderr


def test_an_own_option_after_the_component_goes_to_the_program_with_a_warning(files):
    code, _, err = run_main("run", files["exit3"], "--timeout", "1", "--env=A=1", "plain")
    assert code == 3, err  # the program ran, with those arguments
    warning = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and "--timeout --env" in warning[0]
    assert "wasmlab run [OPTIONS] COMPONENT [ARGS...]" in warning[0]
    code, _, err = run_main("run", "--timeout", "1", files["exit3"], "plain", "--verbose")
    assert code == 3 and "warning" not in err, err


def _subcommands(parser: argparse.ArgumentParser, prefix=()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _subcommands(sub, (*prefix, name))
    return found


def test_every_command_has_help():
    commands = _subcommands(command_parser())
    assert {("wac",), ("wac", "compose"), ("run",), ("wit", "check")} <= set(commands)
    for command in commands:
        code, out, err = run_main(*command, "--help")
        assert code == 0 and out.startswith("usage: wasmlab"), (command, err)
    assert "options go before the component" in run_main("run", "--help")[1]


def test_wac_help_in_a_real_process():
    proc = run_process("wac", "--help")
    assert proc.returncode == 0 and b"compose" in proc.stdout, proc.stderr


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["build"], ["wac"], ["wac", "compose", "x.wac"],
                                  ["run"], ["call", "x.wasm"], ["install-kernel", "--user", "--sys-prefix"],
                                  ["install-kernel", "--prefix", ""]])
def test_usage_errors_exit_2_with_the_usage(argv):
    code, _, err = run_main(*argv)
    assert_clean_failure(code, err, 2)
    assert err.startswith("usage: wasmlab") and "error: " in err and "hint: " in err


# ---------------------------------------------------------------------------- the process: bugs, Ctrl-C

def _failing_parser(exception: BaseException) -> shell.Parser:
    def fail(args):
        raise exception

    parser = shell.Parser(prog="wasmlab")
    parser.add_subparsers(dest="command", required=True).add_parser("fail").set_defaults(run=fail)
    return parser


def test_an_internal_error_is_one_line_naming_it_a_bug(capsys, monkeypatch):
    monkeypatch.delenv(shell.DEBUG_VARIABLE, raising=False)
    assert shell.execute(_failing_parser(ZeroDivisionError("division by zero")), ["fail"]) == shell.BUG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bug in wasmlab" in err and "ZeroDivisionError" in err
    assert f"{shell.DEBUG_VARIABLE}=1" in err
    monkeypatch.setenv(shell.DEBUG_VARIABLE, "1")
    assert shell.execute(_failing_parser(ZeroDivisionError("division by zero")), ["fail"]) == shell.BUG
    assert "Traceback" in capsys.readouterr().err


def test_an_unexpected_os_error_is_one_line(capsys):
    error = PermissionError(13, "Permission denied", "/somewhere")
    assert shell.execute(_failing_parser(error), ["fail"]) == shell.FAILED
    assert capsys.readouterr().err == "error: `/somewhere`: Permission denied\n"


def test_ctrl_c_exits_130_without_a_traceback(files):
    process = subprocess.Popen([sys.executable, "-m", "wasmlab.cli", "run", "--timeout", "300", files["loop"]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert process.stdout.readline() == b"ready\n"  # the guest is running its endless loop
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == shell.INTERRUPTED, err
    assert err.strip() == b"interrupted"


def test_an_unusable_cache_folder_is_one_line(files, tmp_path):
    proc = run_process("build", "--wit", files["adder_wit"], "--world", "adder", "--wat",
                       files["adder"], "-o", str(tmp_path / "out.wasm"),
                       env={**os.environ, "WASMLAB_CACHE_DIR": files["afile"]})
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr, proc.stderr
    said = [line for line in proc.stderr.strip().splitlines() if not line.startswith(b"hint: ")]
    assert len(said) == 1 and said[0].startswith((b"error: ", b"cache error: ", b"build error: ")), proc.stderr


# ---------------------------------------------------------------------------- the API's front door

API_MISUSE = [
    ("load", lambda: wasmlab.load(None), "source"), ("load", lambda: wasmlab.load(123), "source"),
    ("load", lambda: wasmlab.load(True), "source"), ("load", lambda: wasmlab.load("x.wasm", bogus=1), "bogus"),
    ("load", lambda: wasmlab.load(), "source"), ("load", lambda: wasmlab.load("x.wasm", name=5), "name"),
    ("load_module", lambda: wasmlab.load_module(None), "source"),
    ("load_module", lambda: wasmlab.load_module(3.5), "source"),
    ("compose", lambda: wasmlab.compose(b"package a:b;"), "wac_source"),
    ("compose", lambda: wasmlab.compose("package a:b;", deps=5), "deps"),
    ("compose", lambda: wasmlab.compose("package a:b;", unknown=1), "unknown"),
    ("compose", lambda: wasmlab.compose(None), "wac_source"),
    ("build", lambda: wasmlab.build(world=5, python="x"), "world"),
    ("build", lambda: wasmlab.build(world="w", python=b"x"), "python"),
    ("build", lambda: wasmlab.build(world="w", stub="yes"), "stub"),
    ("build", lambda: wasmlab.build("w"), "positional"),
    ("build", lambda: wasmlab.build(world="w", wat="(component)", imports=[1]), "imports"),
    ("define_wit", lambda: wasmlab.define_wit(None), "source"),
    ("define_wit", lambda: wasmlab.define_wit(b"package a:b;"), "source"),
    ("define_wit", lambda: wasmlab.define_wit("package a:b;\n// \ud800"), "surrogate"),
    ("plug", lambda: wasmlab.plug(1, 2), "socket"), ("plug", lambda: wasmlab.plug(b"\0asm", None), "plugs"),
    ("serve", lambda: wasmlab.serve(None), "component"),
    ("serve", lambda: wasmlab.serve("x.wasm", port="80"), "port"),
    ("serve", lambda: wasmlab.serve("x.wasm", port=True), "port"),
    ("serve", lambda: wasmlab.serve("x.wasm", nope=1), "nope"),
]


@pytest.mark.parametrize("function, misuse, named", API_MISUSE,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(API_MISUSE)])
def test_a_wrong_argument_to_the_api_is_an_argument_error(function, misuse, named):
    with pytest.raises(wasmlab.ArgumentError) as info:
        misuse()
    assert isinstance(info.value, TypeError)  # still a TypeError, as Python's own would be
    assert f"{function}()" in info.value.message and named in info.value.message


def test_the_api_front_door_keeps_names_and_documentation():
    for name in ["load", "load_module", "define_wit", "build", "compose", "plug", "serve"]:
        function = getattr(wasmlab, name)
        assert function.__doc__ and function.__wrapped__
    with pytest.raises(wasmlab.LoadError):
        wasmlab.plug("no-such-socket.wasm", "no-such-plug.wasm")  # a path that is not there: a load error


# ---------------------------------------------------------------------------- generated command lines

SUBCOMMANDS = [["wit", "check"], ["build"], ["inspect"], ["call"], ["run"], ["wac", "parse"], ["wac", "resolve"],
               ["wac", "compose"], ["wac", "plug"], ["install-kernel"], []]
FLAGS = ["--wit", "--world", "--python", "--wat", "--stub", "-o", "--output", "--json", "--dir", "--ro-dir", "--env",
         "--timeout", "--max-memory", "--fuel", "--inherit-network", "--allow-ip-name-lookup", "--deps-dir", "--dep",
         "--plug", "--import-dependencies", "--prefix", "-h", "--", "-"]
PATH_KINDS = ["adder", "exit3", "doc", "adder_wit", "latin1", "binary", "folder", "missing", "afile", "device",
              "missing_undecodable", "undecodable"]
ODD_TEXT = [NOT_UTF8, "\ud800", "", " ", "add(1, 2)", "add(", "adder", "A=1", "::/data", "64M", "-1", "nan", "1e309",
            "demo:inputs/adder", "x" * 300, "é", "=", "\\", "'", '"']
SHELL_TEXT = [text for text in ODD_TEXT if text != "\ud800"]  # a shell can pass any bytes, but no "\ud800"
KERNEL_PREFIXES = ["kernel-prefix", "", "\ud800", NOT_UTF8]  # relative: under the test's own folder
no_nul_text = st.text(alphabet=st.characters(blacklist_categories=(), blacklist_characters="\0"), max_size=12)


@st.composite
def command_lines(draw, files):
    """A command line: most often shaped like a real one (a subcommand, its flags with good or bad
    values, its files of every kind), sometimes any tokens at all."""
    path = st.sampled_from(PATH_KINDS).map(files.get)
    text = st.one_of(st.sampled_from(ODD_TEXT), no_nul_text)
    value = st.one_of(path, text, st.sampled_from(FLAGS))
    number = st.one_of(st.sampled_from(["1", "0.5", "0", "-1", "nan", "inf", "1e309", "abc", "", "2e-9"]),
                       st.integers(-2 ** 70, 2 ** 70).map(str), st.floats().map(str))
    output = st.one_of(st.sampled_from(["out.wasm", "{folder}", "{afile}/o.wasm", "no-folder/o.wasm",
                                        f"{NOT_UTF8}.wasm", ""]).map(lambda o: o.format(**files)), text)
    run_flag = st.one_of(
        st.tuples(st.sampled_from(["--dir", "--ro-dir"]),
                  st.one_of(st.sampled_from(["{root}::/data", "{root}", "::/data", "{afile}::/x", "{root}::rel",
                                             f"{{root}}::/{NOT_UTF8}"]).map(lambda d: d.format(**files)), text)),
        st.tuples(st.just("--env"), st.one_of(st.sampled_from(["A=1", "A", "=1", f"A={NOT_UTF8}", "PATH"]), text)),
        st.tuples(st.sampled_from(["--timeout", "--fuel"]), number),
        st.tuples(st.just("--max-memory"),
                  st.one_of(number, st.sampled_from(["64M", "1G", "-1M", "1.5.3M", "9" * 30]))),
        st.tuples(st.sampled_from(["--inherit-network", "--allow-ip-name-lookup"])))
    expression = st.one_of(st.sampled_from(["add(1, 2)", "add(", "add(4294967296, 1)", 'add("x", 1)', "nope()",
                                            "add(1, 2, 3)", "add(-1, 0)", "#add()", ""]), text)
    flags = lambda strategy: st.lists(strategy, max_size=3).map(lambda groups: [t for g in groups for t in g])
    shapes = {
        "wit": lambda: ["wit", "check", *draw(st.lists(path, min_size=1, max_size=2))],
        "build": lambda: ["build", "--wit", draw(st.one_of(st.just(files["adder_wit"]), path)), "--world",
                          draw(st.one_of(st.sampled_from(["adder", "demo:inputs/adder"]), text)),
                          *draw(st.sampled_from([["--stub"], ["--wat", files["adder"]], ["--wat", files["exit3"]]])
                                | path.map(lambda p: [draw(st.sampled_from(["--wat", "--python"])), p])),
                          "-o", draw(output)],
        "inspect": lambda: ["inspect", draw(path), *draw(st.sampled_from([[], ["--json"]]))],
        "call": lambda: ["call", *draw(flags(run_flag)), draw(path), draw(expression)],
        "run": lambda: ["run", *draw(flags(run_flag)), draw(path), *draw(st.lists(value, max_size=3))],
        "wac": lambda: ["wac", draw(st.sampled_from(["parse", "resolve"])), draw(path)],
        "compose": lambda: ["wac", "compose", draw(path),
                            *draw(flags(st.tuples(st.sampled_from(["--deps-dir", "--dep"]), value))),
                            "-o", draw(output)],
        "plug": lambda: ["wac", "plug", draw(path), *draw(flags(st.tuples(st.just("--plug"), path))), "-o",
                         draw(output)],
        # only into the test's own folder (a prefix "" would mean the system-wide place: a usage error)
        "kernel": lambda: ["install-kernel", "--prefix", draw(st.sampled_from(KERNEL_PREFIXES + [files["afile"]]))],
        "any": lambda: [*draw(st.sampled_from(SUBCOMMANDS)),
                        *draw(flags(st.one_of(st.tuples(st.sampled_from(FLAGS), value), st.tuples(value))))],
    }
    return shapes[draw(st.sampled_from(list(shapes)))]()


def _harmless(argv: list[str]) -> bool:
    """Leaves out command lines that would do real, slow or global work: running the endless loop
    (that is the Ctrl-C test), installing a kernel outside the test's folder, building Python."""
    if "install-kernel" in argv:
        return argv[:2] == ["install-kernel", "--prefix"] and argv[2] in KERNEL_PREFIXES and len(argv) == 3
    return "--python" not in argv or "--stub" in argv or "--wat" in argv


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(data=st.data())
def test_generated_command_lines_never_print_a_traceback(files, tmp_path, data, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs with generated names land here
    monkeypatch.setitem(os.environ, "PYTHONWARNINGS", "ignore")
    argv = data.draw(command_lines(files).filter(_harmless).filter(lambda a: files["loop"] not in a))
    code, _, err = run_main(*argv)
    event(f"{' '.join(argv[:1])}: exit {code}")
    assert code in (0, 1, 2, 3) or argv[:1] == ["run"], (argv, code, err)
    assert code != shell.BUG and "Traceback" not in err, (argv, err)
    if code in (1, 2) and argv[:1] != ["run"]:
        assert err.strip(), argv


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_command_lines_in_a_real_process(files, tmp_path, data):
    subcommand = data.draw(st.sampled_from([["inspect"], ["call"], ["run"], ["wac", "parse"], ["wit", "check"]]))
    argv = [*subcommand, files[data.draw(st.sampled_from(PATH_KINDS))],
            *data.draw(st.lists(st.sampled_from(SHELL_TEXT + FLAGS[8:14]), max_size=3))]
    proc = run_process(*argv, cwd=tmp_path, timeout=120)
    assert proc.returncode >= 0, (argv, proc.returncode)  # not killed by a signal
    assert proc.returncode != shell.BUG and b"Traceback" not in proc.stderr, (argv, proc.stderr)
