"""Deny by default, explicit grants, and limits, on a real Python guest."""

import os

import pytest

import wasmlab
from wasmlab.capabilities import Grants, Limits, parse_size
from wasmlab.errors import ArgumentError, Trap
from wasmlab.runtime.usage import Usage

from display_helpers import pictures_in
from guests import PROBE_PY, PROBE_WIT


@pytest.fixture(scope="module")
def probe():
    wasmlab.define_wit(PROBE_WIT)
    return wasmlab.build(world="test:probe/probe", python=PROBE_PY, name="probe", progress=False)


def test_without_grants_no_host_file_is_readable(probe, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    for path in ["/etc/passwd", str(secret), os.getcwd(), os.path.expanduser("~"), "secret.txt"]:
        assert probe.read_file(path).startswith("error:"), path
    assert probe.list_dir("/").startswith("error:") or probe.list_dir("/") == "ok:[]"


def test_without_grants_the_host_environment_is_invisible(probe, monkeypatch):
    monkeypatch.setenv("WASMLAB_SECRET", "hunter2")
    assert probe.get_env() == []


def test_granted_directory_is_readable_at_its_guest_path(probe, tmp_path):
    (tmp_path / "data.txt").write_text("granted")
    probe.grants = Grants().with_dir(tmp_path, "/data")
    try:
        assert probe.read_file("/data/data.txt") == "ok:granted"
        assert probe.write_file("/data/new.txt", "hi") == "ok:2"
        assert (tmp_path / "new.txt").read_text() == "hi"
        assert probe.read_file("/data/../../etc/passwd").startswith("error:")
        assert probe.read_file("/etc/passwd").startswith("error:")
    finally:
        probe.grants = Grants()


def test_read_only_grant_refuses_writes_and_leaves_the_host_unchanged(probe, tmp_path):
    (tmp_path / "data.txt").write_text("original")
    before = sorted(os.listdir(tmp_path))
    probe.grants = Grants().with_dir(tmp_path, "/data", read_only=True)
    try:
        assert probe.read_file("/data/data.txt") == "ok:original"
        assert probe.write_file("/data/data.txt", "changed").startswith("error:")
        assert probe.write_file("/data/created.txt", "x").startswith("error:")
    finally:
        probe.grants = Grants()
    assert (tmp_path / "data.txt").read_text() == "original"
    assert sorted(os.listdir(tmp_path)) == before


def _tree(root):
    return {str(p.relative_to(root)): (p.read_text() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def test_renames_out_of_a_grant_fail_and_move_nothing(probe, tmp_path):
    granted = tmp_path / "granted"
    granted.mkdir()
    (granted / "keep.txt").write_text("mine")
    outside = tmp_path / "outside"
    outside.mkdir()
    before = _tree(tmp_path)
    probe.grants = Grants().with_dir(granted, "/data")
    try:
        for target in ["/data/../outside/keep.txt", "/data/../keep.txt", str(outside / "keep.txt"), "/keep.txt",
                       "/tmp/keep.txt"]:
            assert probe.rename_file("/data/keep.txt", target).startswith("error:"), target
        assert probe.remove_file("/data/../outside").startswith("error:")
        assert probe.rename_file("/data/keep.txt", "/data/moved.txt") == "ok:None"  # inside the grant: allowed
        assert probe.rename_file("/data/moved.txt", "/data/keep.txt") == "ok:None"
    finally:
        probe.grants = Grants()
    assert _tree(tmp_path) == before


def test_read_only_grant_refuses_deletes_renames_and_new_dirs(probe, tmp_path):
    (tmp_path / "data.txt").write_text("original")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.txt").write_text("inner")
    before = _tree(tmp_path)
    probe.grants = Grants().with_dir(tmp_path, "/data", read_only=True)
    try:
        assert probe.remove_file("/data/data.txt").startswith("error:")
        assert probe.remove_file("/data/sub/inner.txt").startswith("error:")
        assert probe.rename_file("/data/data.txt", "/data/renamed.txt").startswith("error:")
        assert probe.rename_file("/data/sub/inner.txt", "/data/inner.txt").startswith("error:")
        assert probe.make_dir("/data/new").startswith("error:")
        assert probe.write_file("/data/sub/inner.txt", "changed").startswith("error:")
        assert probe.read_file("/data/sub/inner.txt") == "ok:inner"
    finally:
        probe.grants = Grants()
    assert _tree(tmp_path) == before


def test_symlink_out_of_a_grant_is_refused(probe, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    granted = tmp_path / "granted"
    granted.mkdir()
    (granted / "link.txt").symlink_to(outside)
    probe.grants = Grants().with_dir(granted, "/g")
    try:
        assert probe.read_file("/g/link.txt").startswith("error:")
    finally:
        probe.grants = Grants()


def test_env_args_and_stdin_are_what_was_granted(probe, monkeypatch):
    monkeypatch.setenv("WASMLAB_PASSED", "through")
    monkeypatch.setenv("WASMLAB_HIDDEN", "no")
    grants = Grants().with_env(LANG="C").with_host_env("WASMLAB_PASSED", "WASMLAB_UNSET").with_args("prog", "-v")
    instance = probe.instantiate(grants=grants.with_stdin("line one\n"), echo=False)
    env = instance.call(("get-env",), probe.exports["get-env"].function, (), {})
    assert env == ["LANG=C", "WASMLAB_PASSED=through"]
    assert instance.call(("get-args",), probe.exports["get-args"].function, (), {}) == ["prog", "-v"]
    assert instance.call(("read-stdin",), probe.exports["read-stdin"].function, (), {}) == "line one\n"


def test_grants_are_immutable_values():
    base = Grants()
    edited = base.with_env(A="1")
    assert base.env == () and edited.env == (("A", "1"),)
    with pytest.raises(Exception):
        base.env = (("B", "2"),)


def test_endless_loop_stops_at_the_time_limit_and_the_next_run_works(probe):
    probe.limits = Limits(timeout=0.5)
    try:
        with pytest.raises(Trap) as info:
            probe.spin()
        assert info.value.trap_kind == "timeout"
        assert "time limit of 0.5 s" in info.value.message
        assert probe.read_file("/nope").startswith("error:")
    finally:
        probe.limits = Limits()


def test_memory_bomb_stops_at_the_memory_limit(probe):
    probe.limits = Limits(max_memory="64M")
    try:
        with pytest.raises(Trap) as info:
            probe.hog(500)
        assert info.value.trap_kind == "memory"
        assert "memory limit of 64 MiB" in info.value.message
        assert probe.hog(4) == 4  # small allocations still fit, in a fresh instance
    finally:
        probe.limits = Limits()


def test_sizes_parse_like_the_command_line():
    assert parse_size("64K") == 64 * 1024
    assert parse_size("1.5M") == int(1.5 * 1024 * 1024)
    assert parse_size(4096) == 4096
    with pytest.raises(ArgumentError):
        parse_size("lots")


def test_ctrl_c_stops_a_component_call_and_the_next_call_works(probe):
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import os, signal, threading, time, wasmlab\n"
        "from guests import PROBE_WIT, PROBE_PY\n"
        "wasmlab.define_wit(PROBE_WIT)\n"
        "probe = wasmlab.build(world='test:probe/probe', python=PROBE_PY, progress=False)\n"
        "probe.compiled()\n"
        "threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    probe.spin()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "print(probe.read_file('/nope')[:6])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["interrupted", "error:"]


def test_fuel_budget_on_a_component(probe):
    probe.limits = Limits(fuel=50_000_000)
    try:
        assert probe.read_file("/nope").startswith("error:")
        used = probe.fuel_consumed
        assert 0 < used < 50_000_000
        with pytest.raises(Trap) as info:
            probe.spin()
        assert info.value.trap_kind == "fuel"
        assert "fuel budget of 50,000,000 was used up" in info.value.message
        assert "--fuel" in info.value.hint
    finally:
        probe.limits = Limits()
    assert probe.read_file("/nope").startswith("error:")


def test_report_shows_asked_granted_and_used(probe, tmp_path):
    (tmp_path / "in.txt").write_text("data")
    probe.grants = Grants().with_dir(tmp_path, "/data").with_env(MODE="test")
    try:
        assert probe.read_file("/data/in.txt") == "ok:data"
        first = probe.report()
        assert first.usage.files == {"/data/in.txt": {"read"}}
        assert first.status("filesystem") == "used"
        assert first.status("network") == "denied"
        assert first.status("environment") == "used"  # Python reads its environment on its first call
        assert probe.write_file("/data/out.txt", "x") == "ok:1"
        second = probe.report()
        assert second.usage.files == {"/data/out.txt": {"created", "wrote"}}
        assert second.status("environment") == "granted, unused"
        rows = {row[0]: row for row in second.rows()}
        assert rows["network"][2] == "denied"
        assert "/data/out.txt (created, wrote)" in rows["filesystem"][3]
        bundle = second._repr_mimebundle_()
        assert "denied" in pictures_in(bundle["text/html"])[0] and "denied" in bundle["text/plain"]
    finally:
        probe.grants = Grants()


def test_without_grants_filesystem_is_reported_denied(probe):
    assert probe.read_file("/etc/passwd").startswith("error:")
    report = probe.report()
    assert report.status("filesystem") == "denied"
    assert report.usage.files == {}


def test_a_denied_file_says_which_grant_would_allow_it(tmp_path):
    import wasmlab

    wasmlab.define_wit("package test:strict;\nworld strict { export load: func(path: string) -> string; }\n")
    strict = wasmlab.build(world="test:strict/strict", progress=False,
                           python="class WitWorld:\n    def load(self, path):\n        return open(path).read()\n")
    with pytest.raises(Trap) as info:
        strict.load("/data/x.txt")
    assert "FileNotFoundError" in info.value.stderr
    assert "--dir HOST::GUEST" in info.value.hint
    refused = Usage()
    refused.note_guest_errors(info.value.stderr, Grants())
    assert refused.refusals("filesystem") == ["/data/x.txt: No such file or directory"]
    (tmp_path / "x.txt").write_text("granted")
    strict.grants = Grants().with_dir(tmp_path, "/data")
    assert strict.load("/data/x.txt") == "granted"
    with pytest.raises(Trap) as info:
        strict.load("/data/missing.txt")
    missing = Usage()
    missing.note_guest_errors(info.value.stderr, strict.grants)
    assert missing.refused == []  # a missing file inside a grant is not a refusal
    with pytest.raises(Trap) as info:
        strict.load("/data/../../../etc/passwd")
    escaped = Usage()
    escaped.note_guest_errors(info.value.stderr, strict.grants)
    assert len(escaped.refusals("filesystem")) == 1
    assert escaped.refusals("filesystem")[0].startswith("/data/../../../etc/passwd: ")


RECURSE_WIT = "package test:deep;\nworld deep { export depth: func(n: u32) -> u32; }\n"
# depth(n) recurses n times: no limit is set, so only the Wasm stack bounds it
RECURSE_WAT = """(module
  (func $depth (export "depth") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get $n) (i32.const 1))))))))"""


def test_deep_recursion_is_a_stack_overflow_and_the_next_call_works():
    wasmlab.define_wit(RECURSE_WIT)
    deep = wasmlab.build(world="test:deep/deep", wat=RECURSE_WAT, progress=False)
    assert deep.depth(1000) == 1000
    with pytest.raises(Trap) as info:
        deep.depth(100_000_000)
    assert info.value.trap_kind == "stack overflow"
    assert info.value.message.startswith("stack overflow in depth")
    assert "recursion" in info.value.hint
    assert deep.depth(10) == 10  # a fresh instance


TICK_WIT = """package test:tick;
world tick {
  import wasi:clocks/monotonic-clock@0.2.0;
  export elapsed: func() -> u64;
}
"""
TICK_WAT = """(module
  (import "wasi:clocks/monotonic-clock@0.2.0" "now" (func $now (result i64)))
  (func (export "elapsed") (result i64)
    (local $start i64)
    (local.set $start (call $now))
    (i64.sub (call $now) (local.get $start))))"""


def test_monotonic_clock_reads_are_counted_where_no_pollable_is_imported(probe):
    wasmlab.define_wit(TICK_WIT)
    tick = wasmlab.build(world="test:tick/tick", wat=TICK_WAT, progress=False)
    assert list(tick.imports["wasi:clocks/monotonic-clock@0.2.0"].interface.functions) == ["now"]
    assert 0 <= tick.elapsed() < 10**10
    report = tick.report()
    assert report.usage.calls == {"clocks": 2} and report.status("clocks") == "used"
    # a Python guest imports subscribe-duration too: its monotonic clock stays wasmtime's, uncounted
    clock = next(item for key, item in probe.imports.items() if key.startswith("wasi:clocks/monotonic-clock@"))
    assert "subscribe-duration" in clock.interface.functions
    assert probe.read_file("/nope").startswith("error:")
