"""The reference WAC conformance suites (bytecodealliance/wac's parser, resolution and encoding tests).

Every case runs in-process through the functions the CLI calls (``wasmlab.wac.cli.run_parse``,
``run_resolve``, ``run_compose``); a few also run through the real ``wasmlab wac`` command.
A fail case conforms when it fails with the reference's primary message (the text after ``×``)
at the same line and column. A pass case conforms when it prints the same output: the syntax
tree as the reference's JSON (parser; the README calls this part optional, we match it), the DOT
graph (resolution), the ``wasm-tools print`` text (encoding, with dependencies imported).

Cases we do not conform on yet are listed in KNOWN_GAPS with the reason; their test asserts that
they still fail, so fixing one forces taking it off the list.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest

from wasmlab.cli import wac as wac_cli
from wasmlab.errors import WacError
from wasmlab.toolchain.tools import wasm_tools

from helpers import WAC_CONFORMANCE, run_cli

SUITE = WAC_CONFORMANCE
if not SUITE.is_dir() and not os.environ.get("CI"):  # CI always has it: there a missing suite fails below
    pytest.skip(f"the WAC conformance suite is not at {SUITE} (set WASMLAB_WAC_CONFORMANCE to its folder)",
                allow_module_level=True)
SUITES = ("parser", "resolution", "encoding")
# the reference encodes its conformance cases with this producers entry
REFERENCE_PROCESSOR = ("wac-parser", "0.10.1")

# "suite/[fail/]name" -> why it does not conform yet
KNOWN_GAPS: dict[str, str] = {}


def _cases(suite: str) -> list[str]:
    root = SUITE / suite
    if not root.is_dir():
        return []
    found = [f"{suite}/{p.stem}" for p in sorted(root.glob("*.wac"))]
    found += [f"{suite}/fail/{p.stem}" for p in sorted((root / "fail").glob("*.wac"))]
    return found


ALL_CASES = [case for suite in SUITES for case in _cases(suite)]


def expected_failure(result_text: str) -> tuple[str, int, int]:
    """The primary message (continuation lines joined) and the line and column of a fail result."""
    lines = result_text.replace("\r\n", "\n").split("\n")
    start = next(i for i, line in enumerate(lines) if "×" in line)
    message = lines[start].split("×", 1)[1].strip()
    for line in lines[start + 1:]:
        stripped = line.strip()
        if not stripped.startswith("│"):
            break
        message += " " + stripped[1:].strip()
    location = re.search(r"╭─\[.*?:(\d+):(\d+)\]", result_text)
    if location is None:  # an error the reference reports without a source location
        return message, None, None
    return message, int(location.group(1)), int(location.group(2))


def _source_path(case: str) -> Path:
    return SUITE / f"{case}.wac"


def _deps_dir(case: str) -> str | None:
    folder = SUITE / case
    return str(folder) if folder.is_dir() else None


@functools.lru_cache(maxsize=None)
def run_case(case: str) -> tuple[bool, str]:
    """Whether ``case`` conforms, and what differed when it does not."""
    suite = case.split("/", 1)[0]
    path = _source_path(case)
    expected = Path(f"{path}.result").read_text(encoding="utf-8")
    should_fail = "/fail/" in case
    try:
        if suite == "parser":
            output = wac_cli.run_parse(str(path))  # the reference's JSON syntax tree, spans included
        elif suite == "resolution":
            output = wac_cli.run_resolve(str(path), deps_dir=_deps_dir(case))
        else:
            wasm = wac_cli.run_compose(str(path), deps_dir=_deps_dir(case), import_dependencies=True,
                                       processor=REFERENCE_PROCESSOR)
            output = wasm_tools("print", input=wasm).text
    except WacError as err:
        if not should_fail:
            return False, f"expected success, got: {err.render()}"
        message, line, col = expected_failure(expected)
        loc = err.location
        got = (err.message, loc.line if loc else None, loc.column if loc else None)
        if got != (message, line, col):
            return False, f"expected {message!r} at {line}:{col}, got {got[0]!r} at {got[1]}:{got[2]}"
        return True, ""
    if should_fail:
        return False, "expected a failure, but it succeeded"
    if output is not None and output.strip() != expected.replace("\r\n", "\n").strip():
        return False, f"output differs:\n--- expected\n{expected}\n--- got\n{output}"
    return True, ""


@pytest.mark.parametrize("case", ALL_CASES)
def test_conformance_case(case):
    ok, detail = run_case(case)
    if case in KNOWN_GAPS:
        assert not ok, f"{case} conforms now: remove it from KNOWN_GAPS"
    else:
        assert ok, detail


def test_suites_present_and_pass_rates(capsys):
    """Every suite has cases; print the pass rate of each (shown even when output is captured)."""
    for suite in SUITES:
        cases = _cases(suite)
        assert cases, f"no {suite} cases under {SUITE}"
        passed = sum(run_case(case)[0] for case in cases)
        with capsys.disabled():
            print(f"\nWAC conformance {suite}: {passed}/{len(cases)} cases pass ({100 * passed / len(cases):.1f}%)")
        assert passed == len(cases) - sum(case.startswith(suite + "/") for case in KNOWN_GAPS)


CLI_CASES = ["parser/types", "parser/fail/missing-semi", "parser/fail/duplicate-package-decl",
             "resolution/let-statements", "resolution/fail/mismatched-kind", "resolution/fail/unknown-package"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_through_the_cli(case):
    """The real ``wasmlab wac`` command: exit 0, or exit 1 with message, file:line:col and a caret."""
    suite = case.split("/", 1)[0]
    path = _source_path(case)
    command = "parse" if suite == "parser" else "resolve"
    argv = ["wac", command, str(path)]
    if suite != "parser" and _deps_dir(case):
        argv += ["--deps-dir", _deps_dir(case)]
    proc = run_cli(*argv)
    assert "Traceback" not in proc.stderr
    if "/fail/" in case:
        message, line, col = expected_failure(Path(f"{path}.result").read_text(encoding="utf-8"))
        assert proc.returncode == 1
        assert message in proc.stderr
        assert f"{path}:{line}:{col}" in proc.stderr
        assert re.search(r"\n\s*\d+ \| .*\n\s*\| *\^", proc.stderr), proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == Path(f"{path}.result").read_text(encoding="utf-8").strip()
