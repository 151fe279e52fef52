"""The build cache cannot hurt: damaged entries and compiled code are rebuilt with a notice,
concurrent and killed writers leave only whole entries, shared caches are read and never written.

Every load of possibly damaged compiled code runs in a child process with a cache of its own, so a
crash would show as a failing exit code instead of killing the test run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmlab.errors import CacheError
from wasmlab.toolchain import cache
from wasmlab.toolchain.tools import wat_is_component, wat_is_empty

ADDER = """\
(; a component written by hand ;)
(component
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (export "add" (func $add)))
"""

# builds (or finds) the adder and calls it: what a notebook cell and its first call do
BUILD_AND_CALL = f"""
import wasmlab
c = wasmlab.build(wat={ADDER!r}, progress=False)
print("cached" if c.cached else "built", c.add(20, 22))
"""


def run_child(code: str, own: Path, shared: list[Path] | None = None, timeout: float = 300):
    env = {**os.environ, "WASMLAB_CACHE_DIR": str(own)}
    env.pop("WASMLAB_SHARED_CACHE", None)
    if shared:
        env["WASMLAB_SHARED_CACHE"] = os.pathsep.join(map(str, shared))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


def notices(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("wasmlab: ")
            and "compiling to native code" not in line and "compiled in" not in line]


def entry_dirs(root: Path) -> list[Path]:
    return [p.parent for p in root.glob("*/*/meta.json")]


def compiled_files(root: Path) -> list[Path]:
    return sorted(root.glob("compiled/*/*.cwasm"))


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip(path: Path) -> None:
    with open(path, "r+b") as f:  # in place: same inode, same size
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture
def warm(tmp_path) -> Path:
    """A cache of the test's own holding the adder, built and compiled by a real process."""
    own = tmp_path / "cache"
    first = run_child(BUILD_AND_CALL, own)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["built", "42"]
    assert len(entry_dirs(own)) == 1 and len(compiled_files(own)) == 1
    return own


@pytest.mark.parametrize("damage", [truncate, flip])
def test_damaged_compiled_code_is_compiled_again_with_a_notice(warm, damage):
    damage(compiled_files(warm)[0])
    again = run_child(BUILD_AND_CALL, warm)
    assert again.returncode == 0, again.stderr  # a crash inside wasmtime would be a negative code
    assert again.stdout.split() == ["cached", "42"]
    [notice] = notices(again)
    assert notice.startswith("wasmlab: discarded damaged compiled code (") and notice.endswith("; compiling again")
    assert ("bytes, not" if damage is truncate else "does not match its digest") in notice
    assert len(compiled_files(warm)) == 1
    clean = run_child(BUILD_AND_CALL, warm)
    assert clean.returncode == 0 and clean.stdout.split() == ["cached", "42"]
    assert notices(clean) == []


def test_a_damaged_compiled_code_sidecar_is_compiled_again(warm):
    sidecar = next(warm.glob("compiled/*/*.json"))
    sidecar.write_text("{not json")
    again = run_child(BUILD_AND_CALL, warm)
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == ["cached", "42"]
    assert len(notices(again)) == 1 and "compiling again" in notices(again)[0]
    assert json.loads(sidecar.read_text())["file"] == compiled_files(warm)[0].name


@pytest.mark.parametrize("target, damage", [("meta.json", truncate), ("meta.json", flip),
                                            ("component.wasm", flip), ("digests.json", truncate)])
def test_a_damaged_entry_is_built_again_with_a_notice(warm, target, damage):
    damage(entry_dirs(warm)[0] / target)
    again = run_child(BUILD_AND_CALL, warm)
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == ["built", "42"]
    [notice] = notices(again)
    assert notice.startswith("wasmlab: discarded a damaged cached build (") and notice.endswith("building it again")
    assert len(entry_dirs(warm)) == 1
    clean = run_child(BUILD_AND_CALL, warm)
    assert clean.stdout.split() == ["cached", "42"] and notices(clean) == []


def test_two_processes_building_the_same_component_at_once_end_with_one_good_entry(tmp_path):
    own, go = tmp_path / "cache", tmp_path / "go"
    racer = f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.005)\n" + BUILD_AND_CALL
    env = {**os.environ, "WASMLAB_CACHE_DIR": str(own)}
    procs = [subprocess.Popen([sys.executable, "-c", racer], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    go.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(out.split()[-1] == "42" for out, _ in outputs)
    [entry] = entry_dirs(own)
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")]  # no scratch left
    assert run_child(BUILD_AND_CALL, own).stdout.split() == ["cached", "42"]


def test_a_second_store_of_a_key_returns_the_first_writers_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("WASMLAB_CACHE_DIR", str(tmp_path))
    key = cache.input_key(test="race")
    first = cache.store(key, b"\0asm first", {"n": 1})
    second = cache.store(key, b"\0asm second", {"n": 2})  # the rename meets the first entry
    assert second.path == first.path and second.meta == {"n": 1}
    assert first.wasm.read_bytes() == b"\0asm first"
    assert [p.name for p in first.path.parent.iterdir()] == [first.path.name]


WRITER = """
import os, sys
from wasmlab.toolchain import cache
n = 0
while True:  # store entries of 40 MB until killed
    key = cache.input_key(writer=n)
    cache.store(key, bytes([n % 256]) * 40_000_000, {"n": n})
    n += 1
"""


def wait_until_stopped(pid: int) -> None:
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
        assert time.monotonic() < deadline, "the writer did not stop"
        time.sleep(0.001)


def test_a_writer_killed_midway_leaves_no_entry_that_is_used(tmp_path, monkeypatch):
    own = tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-c", WRITER], env={**os.environ, "WASMLAB_CACHE_DIR": str(own)})
    try:
        deadline = time.monotonic() + 120
        while True:  # stop the writer while one of its entries is half written, then kill it
            assert time.monotonic() < deadline, "the writer never wrote"
            scratch = [p for p in own.glob("*/.tmp-*") if p.is_dir()]
            if scratch:
                proc.send_signal(signal.SIGSTOP)
                wait_until_stopped(proc.pid)
                if any(p.exists() for p in scratch):
                    break
                proc.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    left = [p for p in own.glob("*/.tmp-*")]
    assert left, "the kill left no scratch"
    monkeypatch.setenv("WASMLAB_CACHE_DIR", str(own))
    for n in range(len(entry_dirs(own)) + 2):
        entry = cache.lookup(cache.input_key(writer=n))
        if entry is not None:  # every entry a reader sees is whole
            assert entry.meta == {"n": n} and entry.wasm.read_bytes() == bytes([n % 256]) * 40_000_000
    killed = left[0].name.split("-")[1]
    assert not any(p.name.startswith(killed) for p in own.glob("*/*") if not p.name.startswith("."))
    stale = time.time() - 2 * 3600
    for p in left:
        os.utime(p, (stale, stale))
    cache.store(cache.input_key(writer="after"), b"\0asm", {})  # a later writer clears old scratch
    assert not any(p.exists() for p in left)


def test_a_shared_cache_is_read_and_never_written(warm, tmp_path):
    own = tmp_path / "learner"
    before = snapshot(warm)
    os.chmod(warm, 0o555)  # read-only by contract (root could write it anyway)
    try:
        run = run_child(BUILD_AND_CALL, own, shared=[warm])
    finally:
        os.chmod(warm, 0o755)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["cached", "42"]  # neither built nor compiled again
    assert "compiling" not in run.stderr
    assert entry_dirs(own) == [] and compiled_files(own) == []
    assert snapshot(warm) == before


@pytest.mark.parametrize("target", ["component.wasm", "compiled"])
def test_a_damaged_shared_cache_is_skipped_and_the_learner_cache_takes_the_rebuild(warm, tmp_path, target):
    own = tmp_path / "learner"
    flip(compiled_files(warm)[0] if target == "compiled" else entry_dirs(warm)[0] / target)
    before = snapshot(warm)
    run = run_child(BUILD_AND_CALL, own, shared=[warm])
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["cached" if target == "compiled" else "built", "42"]
    [notice] = notices(run)
    assert notice.startswith(f"wasmlab: skipped {'damaged compiled code' if target == 'compiled' else 'a damaged build'} "
                             f"in the shared cache {warm}")
    assert snapshot(warm) == before
    # a rebuilt WAT component is byte for byte the shared one, so the shared compiled code still serves
    assert len(compiled_files(own)) == (1 if target == "compiled" else 0)
    assert len(entry_dirs(own)) == (0 if target == "compiled" else 1)


def test_shared_caches_are_settable_from_python(tmp_path, monkeypatch):
    monkeypatch.setenv("WASMLAB_SHARED_CACHE", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert cache.shared_dirs() == [tmp_path / "a", tmp_path / "b"]
    cache.set_shared_dirs([tmp_path / "c"])
    try:
        assert cache.shared_dirs() == [tmp_path / "c"]
    finally:
        cache.set_shared_dirs(None)
    assert cache.shared_dirs() == [tmp_path / "a", tmp_path / "b"]


def test_tools_and_cli_programs_are_found_in_a_shared_cache(tmp_path):
    shared, open_to_all = tmp_path / "image-cache", tmp_path / "anyone"
    (shared / "cli").mkdir(parents=True)
    (shared / "cli" / "prog.cwasm").write_bytes(b"compiled")
    (open_to_all / "cli").mkdir(parents=True)
    (open_to_all / "cli" / "other.cwasm").write_bytes(b"compiled")
    open_to_all.chmod(0o777)  # anyone could have put it there: not used
    cache.set_shared_dirs([open_to_all, shared])
    try:
        assert cache.find_shared("cli/prog.cwasm") == shared / "cli" / "prog.cwasm"
        assert cache.find_shared("cli/other.cwasm") is None
        assert cache.find_shared("cli/missing.cwasm") is None
    finally:
        cache.set_shared_dirs(None)


def test_shared_cache_is_a_magics_setting(warm, tmp_path):
    # a shell of its own in a child process: the test session's global shell belongs to test_magics
    code = f"""
from IPython.core.interactiveshell import InteractiveShell
from wasmlab.toolchain import cache
ip = InteractiveShell.instance()
ip.extension_manager.load_extension("wasmlab")
assert ip.run_cell("%config Wasmlab.shared_cache = [{str(warm)!r}]", silent=True).success
print(cache.shared_dirs() == [cache.Path({str(warm)!r})])
""" + BUILD_AND_CALL
    run = run_child(code, tmp_path / "learner")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "cached", "42"]


def test_a_cache_dir_that_is_a_file_is_a_clear_error(tmp_path):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("")
    run = run_child(BUILD_AND_CALL, not_a_folder)
    assert run.returncode == 1
    assert f"cache error: the build cache {not_a_folder} is not a folder" in run.stderr
    assert "hint: point WASMLAB_CACHE_DIR at a folder you can write" in run.stderr


def test_an_unwritable_cache_dir_is_a_clear_error_before_building(monkeypatch):
    monkeypatch.setenv("WASMLAB_CACHE_DIR", "/proc/wasmlab-cache")  # not even root can write there
    with pytest.raises(CacheError, match="the build cache /proc/wasmlab-cache is not writable"):
        cache.writable_dir()
    import wasmlab

    with pytest.raises(CacheError):
        wasmlab.build(wat=ADDER, progress=False)


_space = st.lists(st.sampled_from([" ", "\n", "\t", ";; line (component\n", "(; block ;)",
                                   "(; outer (; (module inner ;) ;)", "\r\n"]), max_size=6).map("".join)


@given(before=_space, inside=_space, keyword=st.sampled_from(["component", "module", "componentx", "core"]),
       after=st.sampled_from(["", " $c", "(", ")", "\n(core module)"]))
def test_wat_is_component_reads_past_comments_as_the_wat_lexer_does(before, inside, keyword, after):
    if inside.startswith(";;"):
        inside = " " + inside  # `(;;` would open a block comment
    text = f"{before}({inside}{keyword}{after}"
    assert wat_is_component(text) == (keyword == "component")
    assert not wat_is_empty(text)


@given(_space)
def test_wat_made_of_comments_and_space_is_empty(text):
    assert wat_is_empty(text) and not wat_is_component(text)


def notebook(path: Path, cells: list[str]) -> Path:
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "id": str(i), "metadata": {}, "execution_count": None, "outputs": [],
                   "source": source} for i, source in enumerate(cells)],
    }))
    return path


ADDER_WIT = "package demo:warm;\nworld adder { export add: func(a: u32, b: u32) -> u32; }\n"


def test_wasmlab_warm_runs_notebooks_into_the_cache(tmp_path):
    lesson = tmp_path / "lesson"
    lesson.mkdir()
    notebook(lesson / "01.ipynb", [
        "%load_ext wasmlab",
        "%%wit\n" + ADDER_WIT,
        "%%component adder --world adder --wat\n" + ADDER,
        "1 / 0  # a lesson's error on purpose",
        "open('written-by-the-notebook.txt', 'w').write(str(adder.add(1, 2)))",
        "%component stub --world adder --stub",
    ])
    own = tmp_path / "cache"
    script = Path(sys.executable).with_name("wasmlab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "wasmlab.cli"]
    env = {**os.environ, "WASMLAB_CACHE_DIR": str(own)}
    warmed = subprocess.run([*command, "warm", str(lesson)], capture_output=True, text=True, env=env, timeout=600)
    assert warmed.returncode == 0, warmed.stderr
    assert "warming 01.ipynb: cell 3 of 6" in warmed.stderr  # progress, cell by cell
    assert f"{lesson / '01.ipynb'}: 6 cells ran in" in warmed.stderr and "1 raised" in warmed.stderr
    assert not (lesson / "written-by-the-notebook.txt").exists()  # it ran on a copy
    assert len(entry_dirs(own)) == 2 and len(compiled_files(own)) == 2  # the WAT build and the stub
    first_run = run_child(f"import wasmlab\nwasmlab.define_wit({ADDER_WIT!r})\n"
                          f"c = wasmlab.build(world='adder', wat={ADDER!r}, progress=False)\n"
                          "print(c.cached, c.add(2, 3))", own)
    assert first_run.returncode == 0, first_run.stderr
    assert first_run.stdout.split() == ["True", "5"] and "compiling" not in first_run.stderr


def test_wasmlab_warm_reports_a_notebook_that_cannot_run(tmp_path):
    notebook(tmp_path / "dies.ipynb", ["import os\nos._exit(3)", "print('never')"])
    from wasmlab.toolchain.warm import warm

    [run] = warm([tmp_path / "dies.ipynb"], progress=False)
    assert not run.ok and run.problem.startswith("its process ended with code 3")
    assert run.ran == 0 and run.cells == 2


def test_tool_versions_in_build_keys_are_the_installed_distributions():
    from wasmlab.toolchain.tools import _metadata_version, tool_versions

    versions = tool_versions()
    assert versions == {dist: _metadata_version(dist) for dist in versions}
    assert "absent" not in versions.values()


def test_a_shared_cache_anyone_can_write_is_not_used(warm, tmp_path):
    os.chmod(warm, 0o777)
    try:
        run = run_child(BUILD_AND_CALL, tmp_path / "learner", shared=[warm])
    finally:
        os.chmod(warm, 0o755)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["built", "42"]
    assert notices(run) == [f"wasmlab: not using the shared cache {warm}: anyone can write to it"]
