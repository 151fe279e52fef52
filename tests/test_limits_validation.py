"""What a user types for grants, limits, export names and argument values: every wrong form is
refused when given, in one clear error with the fix (never a traceback from inside wasmlab, a
wrapped-around budget, or the working directory granted by accident).  Many cases per class:
parametrized lists of the known traps plus hypothesis for the rest."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wasmlab
from wasmlab import Grants, Limits
from wasmlab.capabilities import MAX_FUEL, MAX_MEMORY, DirGrant, parse_size
from wasmlab.cli.main import main as cli_main
from wasmlab.errors import ArgumentError, UnknownAttribute, UnknownExport, WasmlabError

import reliability

FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def rel():
    return reliability.build()


def one_line_error(exc: BaseException) -> str:
    """The message a user sees first; it must name the problem, and a hint must name the fix."""
    assert isinstance(exc, WasmlabError), repr(exc)
    return exc.message


# ---- grants ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda d: Grants().with_dir(""),
    lambda d: Grants().with_dir("", "/data"),
    lambda d: Grants().with_dir("   ", "/data"),
    lambda d: DirGrant("", "/data"),
    lambda d: Grants(dirs=(DirGrant("", "/x"),)),
], ids=["empty", "empty-with-guest", "blank", "dirgrant", "constructor"])
def test_an_empty_host_path_is_refused_not_the_working_directory(make, tmp_path):
    with pytest.raises(ArgumentError) as info:
        make(tmp_path)
    assert "empty" in info.value.message or "does not exist" in info.value.message
    assert info.value.hint


@pytest.mark.parametrize("spec", ["::/data", "", "::", " ::/data"])
def test_the_cli_refuses_an_empty_host_path(spec, rel, capsys):
    code = cli_main(["call", str(rel.wasm_path), "add(1, 2)", "--dir", spec])
    err = capsys.readouterr().err
    assert code == 2  # a malformed flag value is a usage error
    assert "Traceback" not in err
    assert "host path" in err or "does not exist" in err


@pytest.mark.parametrize("host, guest, words", [
    (None, "/data", "must be a path"),
    (5, "/data", "must be a path"),
    (b"/tmp", "/data", "must be a path"),
    ("{missing}", "/data", "does not exist"),
    ("{file}", "/data", "not a directory"),
    ("{dir}", "data", "not absolute"),
    ("{dir}", "./data", "not absolute"),
    ("{dir}", "", "not absolute"),
    ("{dir}", 7, "must be a path"),
    ("{dir}", "/da\0ta", "NUL"),
    ("{dir}\0x", "/data", "NUL"),
    ("{rel}", None, "not absolute"),
])
def test_wrong_directory_grants_are_refused_with_the_fix(host, guest, words, tmp_path, monkeypatch):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    fill = {"missing": str(tmp_path / "nope"), "file": str(tmp_path / "file.txt"), "dir": str(tmp_path),
            "rel": "sub"}
    host = host.format(**fill) if isinstance(host, str) else host
    with pytest.raises(ArgumentError) as info:
        Grants().with_dir(host, guest)
    assert words in info.value.message
    assert info.value.hint


def test_duplicate_guest_paths_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    grants = Grants().with_dir(tmp_path / "a", "/data")
    for guest in ("/data", "/data/", "//data", "/data/."):
        with pytest.raises(ArgumentError, match="granted twice"):
            grants.with_dir(tmp_path / "b", guest)


def test_a_good_grant_still_works_and_defaults_the_guest_path_to_an_absolute_host(tmp_path, rel):
    grants = Grants().with_dir(tmp_path).with_dir(tmp_path, "/data", read_only=True)
    assert [(d.guest, d.read_only) for d in grants.dirs] == [(str(tmp_path.resolve()), False), ("/data", True)]
    rel.grants = grants
    try:
        assert rel.calc.add(1, 2) == 3
    finally:
        rel.grants = Grants()


@pytest.mark.parametrize("make, words", [
    (lambda: Grants().with_env(**{"A=B": "x"}), "contains '='"),
    (lambda: Grants().with_env(**{"": "x"}), "is empty"),
    (lambda: Grants().with_env(**{"A\0": "x"}), "NUL"),
    (lambda: Grants().with_env(A="x\0y"), "NUL"),
    (lambda: Grants().with_env(A=3), "must be a str"),
    (lambda: Grants().with_env(A=None), "must be a str"),
    (lambda: Grants().with_env(A=b"x"), "must be a str"),
    (lambda: Grants(env={"A": 1}), "must be a str"),
    (lambda: Grants(env={1: "x"}), "must be a str"),
    (lambda: Grants(env=[("A",)]), "pair"),
    (lambda: Grants(env="A=B"), "tuple or list"),
    (lambda: Grants().with_host_env("PATH=x"), "contains '='"),
    (lambda: Grants().with_host_env(5), "must be a str"),
    (lambda: Grants().with_args("a\0b"), "NUL"),
    (lambda: Grants(dirs=["/tmp"]), "not a DirGrant"),
    (lambda: Grants().with_network(sockets="yes"), "True or False"),
    (lambda: Grants(stdin=5), "stdin"),
    (lambda: Grants(inherit_stdio=1), "True or False"),
])
def test_malformed_environment_and_other_grants_are_refused(make, words):
    with pytest.raises(ArgumentError) as info:
        make()
    assert words in info.value.message


@given(name=st.text(max_size=12),
       value=st.one_of(st.text(max_size=12), st.integers(), st.none(), st.binary(max_size=4)))
@FAST
def test_any_environment_entry_is_granted_exactly_or_refused_clearly(name, value):
    good = (isinstance(value, str) and name != "" and "=" not in name and "\0" not in name and "\0" not in value)
    try:
        grants = Grants(env={name: value})
    except ArgumentError as exc:
        assert not good, exc
        assert exc.message and exc.hint is not None or "NUL" in exc.message or "pair" in exc.message
    else:
        assert good
        assert grants.env == ((name, value),)


@pytest.mark.parametrize("value", [5, "abc", None, Limits(), {"dirs": []}, [Grants()]])
def test_component_grants_of_the_wrong_type_are_refused_when_set(value, rel):
    with pytest.raises(ArgumentError, match="must be a wasmlab.Grants"):
        rel.grants = value
    assert rel.calc.add(2, 2) == 4  # the component still works, with the grants it had


@pytest.mark.parametrize("attribute, value", [("grants", "x"), ("grants", Limits()), ("limits", 3),
                                              ("limits", Grants())])
def test_core_module_grants_and_limits_of_the_wrong_type_are_refused_when_set(attribute, value):
    from guests import HELLO_WASI_WAT
    from wasmlab.runtime.core_modules import load_module

    module = load_module(HELLO_WASI_WAT)
    with pytest.raises(ArgumentError, match=f"module.{attribute} must be a wasmlab"):
        setattr(module, attribute, value)
    assert module.run(echo=False).stdout == "hello from WASI\n"  # with what it had


# ---- limits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, words", [
    ({"fuel": -1}, "between 1 and"),
    ({"fuel": 0}, "between 1 and"),
    ({"fuel": 2 ** 64}, "between 1 and"),
    ({"fuel": 2 ** 70}, "between 1 and"),
    ({"fuel": "100"}, "whole number"),
    ({"fuel": 1.5}, "whole number"),
    ({"fuel": True}, "whole number"),
    ({"fuel": False}, "whole number"),
    ({"timeout": math.nan}, "positive, finite"),
    ({"timeout": math.inf}, "positive, finite"),
    ({"timeout": -1}, "positive, finite"),
    ({"timeout": 0}, "positive, finite"),
    ({"timeout": -0.0}, "positive, finite"),
    ({"timeout": "5"}, "number of seconds"),
    ({"timeout": True}, "number of seconds"),
    ({"timeout": 1j}, "number of seconds"),
    ({"max_memory": ""}, "not a size"),
    ({"max_memory": "1.5.3M"}, "not a size"),
    ({"max_memory": "-1M"}, "not a size"),
    ({"max_memory": "-1"}, "not a size"),
    ({"max_memory": "1T"}, "not a size"),
    ({"max_memory": "M"}, "not a size"),
    ({"max_memory": "nan"}, "not a size"),
    ({"max_memory": "1e9"}, "not a size"),
    ({"max_memory": 0}, "no memory"),
    ({"max_memory": "0K"}, "no memory"),
    ({"max_memory": "0.0001K"}, "no memory"),
    ({"max_memory": -5}, "no memory"),
    ({"max_memory": 2 ** 70}, "more than wasmtime can count"),
    ({"max_memory": 2 ** 63}, "more than wasmtime can count"),
    ({"max_memory": "9999999999G"}, "more than wasmtime can count"),
    ({"max_memory": True}, "a size must be"),
    ({"max_memory": 1.5}, "a size must be"),
    ({"max_memory": [64]}, "a size must be"),
    ({"interruptible": "no"}, "True or False"),
])
def test_wrong_limits_are_refused_when_made(kwargs, words):
    with pytest.raises(ArgumentError) as info:
        Limits(**kwargs)
    assert words in info.value.message
    assert info.value.hint is not None or "True or False" in words


@pytest.mark.parametrize("text, size", [
    ("65536", 65536), ("64K", 64 << 10), ("64KiB", 64 << 10), ("16m", 16 << 20), ("1G", 1 << 30), ("1.5K", 1536),
    (" 2 M ", 2 << 20), ("1B", 1), (MAX_MEMORY, MAX_MEMORY), ("8589934591G", 8589934591 << 30),
])
def test_good_sizes_are_exact(text, size):
    assert parse_size(text) == size
    assert Limits(max_memory=text).max_memory == size


@given(st.integers())
@FAST
def test_any_fuel_is_kept_exactly_or_refused(fuel):
    try:
        limits = Limits(fuel=fuel)
    except ArgumentError:
        assert not 0 < fuel <= MAX_FUEL
    else:
        assert 0 < fuel <= MAX_FUEL and limits.fuel == fuel


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-10, max_value=10))
@FAST
def test_any_timeout_is_kept_or_refused(timeout):
    try:
        limits = Limits(timeout=timeout)
    except ArgumentError:
        assert not (math.isfinite(timeout) and timeout > 0)
    else:
        assert limits.timeout == timeout > 0


@given(st.text(max_size=10) | st.integers())
@FAST
def test_any_size_text_is_a_positive_representable_size_or_refused(text):
    try:
        size = parse_size(text)
    except ArgumentError as exc:
        assert exc.hint
    else:
        assert type(size) is int and 0 < size <= MAX_MEMORY


@pytest.mark.parametrize("value", ["abc", 5, None, Grants(), {"fuel": 10}])
def test_component_limits_of_the_wrong_type_are_refused_when_set(value, rel):
    with pytest.raises(ArgumentError, match="must be a wasmlab.Limits"):
        rel.limits = value
    assert rel.calc.add(2, 3) == 5


def test_the_largest_fuel_budget_is_a_budget_and_a_small_one_stops_an_endless_loop(rel):
    rel.limits = Limits(fuel=MAX_FUEL)
    try:
        assert rel.calc.spin(1000) == 1000
        rel.limits = Limits(fuel=10_000)
        with pytest.raises(wasmlab.errors.Trap, match="fuel budget of 10,000"):
            rel.calc.spin(2 ** 64 - 1)  # without a budget: endless
    finally:
        rel.limits = Limits()


def test_a_memory_limit_stops_growth_and_the_cli_refuses_bad_limits(rel, capsys):
    rel.limits = Limits(max_memory="1M")
    try:
        assert rel.calc.grow(100) == -1  # 100 pages are over 1 MiB: memory.grow fails
        assert rel.calc.grow(1) >= 1
    finally:
        rel.limits = Limits()
    for flag in ("--max-memory=-1M", "--max-memory=", "--max-memory=0", "--timeout=nan", "--timeout=-1",
                 "--fuel=-1", f"--fuel={2 ** 64}"):
        code = cli_main(["call", str(rel.wasm_path), "add(1, 2)", flag])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and "hint:" in err, (flag, err)


# ---- export names ------------------------------------------------------------------------------

@pytest.mark.parametrize("lookup, kind", [
    (lambda c: c.export("calc#nope"), UnknownExport),
    (lambda c: c.export("nope#f"), UnknownExport),
    (lambda c: c.export("#f"), UnknownExport),
    (lambda c: c.export("a##b"), UnknownExport),
    (lambda c: c.export("calc#"), UnknownExport),
    (lambda c: c.export("#"), UnknownExport),
    (lambda c: c.export(""), UnknownExport),
    (lambda c: c.export("nope"), UnknownExport),
    (lambda c: c.export("echo#x"), UnknownExport),
    (lambda c: c.export("test:reliable/calc#nope"), UnknownExport),
    (lambda c: c.call("nope", 1), UnknownExport),
    (lambda c: c["nope"], UnknownExport),
    (lambda c: c[""], UnknownExport),
    (lambda c: c[5], UnknownExport),
    (lambda c: c["calc"]["nope"], UnknownExport),
    (lambda c: c.nope, UnknownAttribute),
    (lambda c: c.calc.nope, UnknownAttribute),
    (lambda c: c.calc.add_, UnknownAttribute),
])
def test_unknown_names_in_any_form_name_what_exists(lookup, kind, rel):
    with pytest.raises(kind) as info:
        lookup(rel)
    text = str(info.value)
    assert "Traceback" not in text
    assert "add" in text or "calc" in text  # what exists is named
    assert isinstance(info.value, KeyError if kind is UnknownExport else AttributeError)


def test_unknown_names_keep_hasattr_in_and_getattr_working(rel):
    assert not hasattr(rel, "nope") and hasattr(rel, "calc") and hasattr(rel.calc, "add")
    assert getattr(rel.calc, "nope", "default") == "default"
    assert "calc" in rel and "test:reliable/calc" in rel and "nope" not in rel and 5 not in rel
    assert "add" in rel["calc"] and "nope" not in rel["calc"]
    with pytest.raises(ArgumentError):
        rel.export(5)


@given(st.text(max_size=20))
@settings(max_examples=300, deadline=None, database=None)
def test_any_export_name_is_found_or_refused_as_unknown(name):
    c = _names_component()
    known = {"add", "echo", "counter", "crash", "spin", "count", "norm", "mask", "kind", "hue", "grow"}
    try:
        found = c.export(name)
    except UnknownExport as exc:
        assert "exported functions:" in exc.hint
    else:
        assert found.function.name in known


_NAMES: list = []


def _names_component():
    if not _NAMES:
        _NAMES.append(reliability.build())
    return _NAMES[0]


# ---- argument values of the wrong shape --------------------------------------------------------

def _endless():
    while True:
        yield 1


class _Huge:
    def __len__(self):
        return 2 ** 40

    def __iter__(self):
        return iter(())


@pytest.mark.parametrize("call, where", [
    (lambda c: c.calc.norm({1: 2, "x": 1, "y": 2}), "p"),
    (lambda c: c.calc.norm({None: 2}), "p"),
    (lambda c: c.calc.norm({("x",): 1}), "p"),
    (lambda c: c.calc.norm({"x": 1}), "p"),
    (lambda c: c.calc.norm({"x": 1, "y": 2, "z": 3}), "p"),
    (lambda c: c.calc.norm([1, 2]), "p"),
    (lambda c: c.calc.mask([["read"]]), "p"),
    (lambda c: c.calc.mask({"read", "nope"}), "p"),
    (lambda c: c.calc.mask([{}]), "p"),
    (lambda c: c.calc.mask([1]), "p"),
    (lambda c: c.calc.mask("read"), "p"),
    (lambda c: c.calc.kind(wasmlab.Variant(["circle"], 1)), "s"),
    (lambda c: c.calc.kind(("nope", 1)), "s"),
    (lambda c: c.calc.kind(("dot", 1)), "s"),
    (lambda c: c.calc.kind(5), "s"),
    (lambda c: c.calc.hue(["red"]), "c"),
    (lambda c: c.calc.hue("\ud800"), "c"),
    (lambda c: c.calc.count(_endless()), "xs"),
    (lambda c: c.calc.count(iter(range(1 << 21))), "xs"),
    (lambda c: c.calc.count(_Huge()), "xs"),
    (lambda c: c.calc.count([1, "2"]), "xs[1]"),
    (lambda c: c.calc.count("abc"), "xs"),
    (lambda c: c.calc.count({1: 2}), "xs"),
    (lambda c: c.calc.count(5), "xs"),
    (lambda c: c.echo("\ud800"), "s"),
    (lambda c: c.echo("ok\udfffok"), "s"),
    (lambda c: c.echo(b"bytes"), "s"),
    (lambda c: c.calc.add(-1, 2), "a"),
    (lambda c: c.calc.add(2 ** 32, 2), "a"),
    (lambda c: c.calc.add(True, 2), "a"),
    (lambda c: c.calc.add(1.0, 2), "a"),
    (lambda c: c.calc.spin(-1), "n"),
])
def test_values_of_the_wrong_shape_are_argument_errors_naming_the_parameter(call, where, rel):
    with pytest.raises(ArgumentError) as info:
        call(rel)
    assert info.value.message.startswith(where), info.value.message
    assert rel.calc.add(1, 1) == 2  # nothing entered Wasm: the instance is as it was


def test_a_long_list_from_a_sized_iterable_still_passes(rel):
    assert rel.calc.count(range(200_000)) == 200_000
    assert rel.calc.count(x for x in range(1000)) == 1000  # a finite generator is fine


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.binary(max_size=5)


@given(st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                    | st.dictionaries(_SCALARS, inner, max_size=3), max_leaves=8))
@settings(max_examples=300, deadline=None, database=None)
def test_any_python_value_is_accepted_or_refused_as_an_argument_error(value):
    c = _names_component()
    for call in (c.calc.norm, c.calc.mask, c.calc.kind, c.calc.hue, c.calc.count, c.echo):
        try:
            call(value)
        except ArgumentError as exc:
            assert exc.message
        except wasmlab.errors.Trap as exc:  # a value of the right shape the guest does not like
            raise AssertionError(f"{call} trapped on {value!r}") from exc
