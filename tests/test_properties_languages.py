"""Property-based tests of the languages a user types: WAVE values, WAC documents, WIT packages.

* WAVE: for generated WIT types (built from :mod:`wasmlab.wittypes`) and values of them, the text
  ``wave.format`` writes reads back (``wave.parse``) to a value that writes the same text; any
  text, and Python values of any shape, end in a located/clear ``ArgumentError`` or a value.
* WAC: edits of the reference's conformance documents (inserted pieces, deletions, deep nesting,
  huge versions) parse, resolve and encode, or end in a ``WacError``; parse errors are located.
* WIT: edits of the notebooks' ``%%wit`` cells define a package or end in a located ``WitError``;
  what defines reads into the type model whose every type spells itself (``wit()``).

Example counts are small so the whole file runs in well under a minute (WIT goes through
wasm-tools, a process per example).
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from wasmlab import wave
from wasmlab.errors import ArgumentError, WacError, WitError
from wasmlab.values import Err, Ok, Some, Variant
from wasmlab.wac import encode, parse, resolve
from wasmlab.wittypes import (
    EnumT,
    FixedListT,
    FlagsT,
    ListT,
    OptionT,
    Prim,
    RecordT,
    ResultT,
    TupleT,
    VariantT,
    unalias,
)

from language_inputs import WAC_CONFORMANCE, notebook_wit_cells, wac_documents

# explaining a failure re-runs it a hundred times: too slow where each example starts wasm-tools
NO_EXPLAIN = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- WAVE: generated types and values --------------------------------------------------------------

# kebab-case names; WAVE's keywords (ok, none, ...) among them, which must be written %ok
NAMES = st.one_of(st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z][a-z0-9]{0,3}){0,2}", fullmatch=True),
                  st.sampled_from(["ok", "err", "some", "none", "true", "false", "inf", "nan"]))
INTEGERS = ["u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"]


def distinct_names(min_size=1):
    return st.lists(NAMES, min_size=min_size, max_size=4, unique=True)


def types():
    leaves = st.sampled_from(INTEGERS + ["bool", "f32", "f64", "char", "string"]).map(Prim) | \
        distinct_names().map(lambda names: EnumT("e", cases=names)) | \
        distinct_names(0).map(lambda names: FlagsT("f", flags=names))

    def compound(inner):
        return st.one_of(
            inner.map(ListT),
            st.builds(FixedListT, inner, st.integers(1, 3)),
            st.lists(inner, min_size=1, max_size=3).map(TupleT),
            inner.map(OptionT),
            st.builds(ResultT, st.none() | inner, st.none() | inner),
            st.lists(st.tuples(NAMES, inner), min_size=1, max_size=3, unique_by=lambda f: f[0])
              .map(lambda fields: RecordT("r", fields=fields)),
            st.lists(st.tuples(NAMES, st.none() | inner), min_size=1, max_size=3, unique_by=lambda c: c[0])
              .map(lambda cases: VariantT("v", cases=cases)),
        )

    return st.recursive(leaves, compound, max_leaves=8)


def values(ty):
    """A strategy for Python values of WIT type ``ty`` (the shapes calls take)."""
    ty = unalias(ty)
    if isinstance(ty, Prim):
        kind = ty.kind
        if kind in INTEGERS:
            bits = int(kind[1:])
            low, high = (0, (1 << bits) - 1) if kind[0] == "u" else (-(1 << bits - 1), (1 << bits - 1) - 1)
            return st.integers(low, high)
        return {"bool": st.booleans(), "f32": st.floats(width=32), "f64": st.floats(),
                "char": st.characters(blacklist_categories=["Cs"]),
                "string": st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)}[kind]
    if isinstance(ty, ListT):
        return st.lists(values(ty.element), max_size=3)
    if isinstance(ty, FixedListT):
        return st.lists(values(ty.element), min_size=ty.size, max_size=ty.size)
    if isinstance(ty, TupleT):
        return st.tuples(*[values(t) for t in ty.elements])
    if isinstance(ty, OptionT):
        return st.none() | values(ty.inner).map(Some)
    if isinstance(ty, ResultT):
        ok = st.just(None) if ty.ok is None else values(ty.ok)
        err = st.just(None) if ty.err is None else values(ty.err)
        return ok.map(Ok) | err.map(Err)
    if isinstance(ty, RecordT):
        return st.fixed_dictionaries({name: values(t) for name, t in ty.fields})
    if isinstance(ty, VariantT):
        return st.one_of(*[st.just(Variant(case)) if t is None else values(t).map(lambda v, c=case: Variant(c, v))
                           for case, t in ty.cases])
    if isinstance(ty, EnumT):
        return st.sampled_from(ty.cases)
    if isinstance(ty, FlagsT):
        return st.sets(st.sampled_from(ty.flags)) if ty.flags else st.just(set())
    raise AssertionError(f"no values for {ty.wit()}")


typed_values = types().flatmap(lambda ty: st.tuples(st.just(ty), values(ty)))


@QUICK
@given(typed_values)
def test_wave_text_reads_back_to_the_value_it_was_written_from(typed):
    ty, value = typed
    text = wave.format(value, ty)
    again = wave.parse(text, ty)
    assert wave.format(again, ty) == text
    if isinstance(unalias(ty), Prim) and unalias(ty).kind in ("f32", "f64") and not math.isnan(value):
        written = value if unalias(ty).kind == "f64" else again
        assert again == written  # the shortest digits still read back exactly


@QUICK
@given(types(), st.text(max_size=40) | st.from_regex(r"[\[\](){},:%a-z0-9 .'\"-]{0,40}", fullmatch=True))
def test_any_text_is_a_value_or_a_located_argument_error(ty, text):
    try:
        wave.parse(text, ty, origin="arg")
    except ArgumentError as err:
        assert err.location is not None and err.location.origin == "arg"
        assert 1 <= err.location.column <= len(text) + 1


@QUICK
@given(st.lists(st.tuples(NAMES, types()), max_size=3),
       st.from_regex(r"[a-z#/-]{0,8}\([\[\](){},:%a-z0-9 .'\"-]{0,30}\)?", fullmatch=True) | st.text(max_size=30))
def test_any_call_text_gives_arguments_or_a_located_argument_error(params, text):
    try:
        arguments = wave.parse_arguments(text, params, origin="call")
    except ArgumentError as err:
        assert err.location is not None and err.location.origin == "call"
    else:
        assert len(arguments) == len(params)


python_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4) | st.binary(max_size=3)
    | st.sampled_from([Some(1), Ok("x"), Err(None), Variant("a", 1)])
    | st.builds(pow, st.just(10), st.just(5000)),  # past the int-string limit (built: hypothesis reprs constants)
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(NAMES, inner, max_size=3)
    | st.frozensets(st.text(max_size=3), max_size=3),
    max_leaves=6)


@QUICK
@given(types(), python_values)
def test_python_values_of_any_shape_format_or_are_an_argument_error(ty, value):
    try:
        text = wave.format(value, ty)
    except ArgumentError as err:
        assert err.message and "\n" not in err.message
    else:
        assert wave.format(wave.parse(text, ty), ty) == text  # what it accepts it writes as valid WAVE


# ---- WAC: mutated conformance documents -------------------------------------------------------------

DOCUMENTS = wac_documents()
needs_suite = pytest.mark.skipif(
    not DOCUMENTS and not os.environ.get("CI"),
    reason=f"the WAC conformance suite is not at {WAC_CONFORMANCE} (set WASMLAB_WAC_CONFORMANCE)")
PIECES = ["{", "}", "(", ")", "<", ">", ";", ":", "...", ".", "[", "]", '"', "let", "new", "export", "import",
          "as", "%", "@", "/", ",", "x", "foo:bar", "a:b/c@1.0.0", "->", "_", "\n", "é", "/*", "//", "\0",
          "list<" * 300, "(" * 300, "new a:b { x: " * 200, "@1.0." + "9" * 5000, "@" + "9" * 5000 + ".0.0",
          "type t = " + "option<" * 150 + "u8" + ">" * 150 + ";", "\ufeff", "\u202e"]

LINE = "<a whole line>"
edits = st.lists(st.tuples(st.floats(0, 1), st.booleans(), st.sampled_from([LINE] * 8 + PIECES), st.integers(1, 12)),
                 min_size=1, max_size=3)


def _edit(text: str, changes) -> str:
    """``changes``: (where 0..1, insert?, piece, length); LINE pieces drop or repeat a whole line,
    which keeps more documents parseable, so that more edits reach resolution and encoding."""
    for where, insert, piece, length in changes:
        if piece is LINE:
            lines = text.split("\n")
            at = min(int(where * len(lines)), len(lines) - 1)
            lines[at:at + 1] = [lines[at]] * 2 if insert else []
            text = "\n".join(lines)
            continue
        at = int(where * len(text))
        text = text[:at] + piece + text[at:] if insert else text[:at] + text[at + length:]
    return text


@needs_suite
@settings(max_examples=200, deadline=None, phases=NO_EXPLAIN)
@given(st.sampled_from(DOCUMENTS or [None]), edits)
def test_edited_wac_documents_resolve_encode_or_are_wac_errors(path, changes):
    text = _edit(path.read_text(encoding="utf-8"), changes)
    deps_dir = path.with_suffix("")
    try:
        document = parse(text, origin="edited.wac")
    except WacError as err:
        assert err.location is not None and err.location.origin == "edited.wac"
        assert 1 <= err.location.line <= text.count("\n") + 1
        return
    try:
        resolution = resolve(document, deps_dir=deps_dir if deps_dir.is_dir() else None)
        encode(resolution, import_dependencies=True)
    except WacError as err:
        assert err.message and "Traceback" not in err.render()
        if err.location is not None:
            assert 1 <= err.location.line <= text.count("\n") + 1


# ---- WIT: mutated notebook cells ---------------------------------------------------------------------

WIT_CELLS = notebook_wit_cells()
WIT_PIECES = ["{", "}", "(", ")", "<", ">", ";", ":", ",", "@", "/", "%", "list<" * 120, "record", "func",
              "use", "interface", "world", "package", "é", "\0", "@0.2." + "9" * 5000, "-", "_", "\n"]


@settings(max_examples=40, deadline=None, phases=NO_EXPLAIN)
@given(st.sampled_from(WIT_CELLS or [""]),
       st.lists(st.tuples(st.floats(0, 1), st.booleans(), st.sampled_from(WIT_PIECES), st.integers(1, 12)),
                min_size=1, max_size=3))
def test_edited_wit_cells_define_or_are_located_wit_errors(cell, changes):
    from wasmlab.toolchain.wit import WitRegistry

    source = _edit(cell, changes)
    try:
        definition = WitRegistry().define(source, origin="cell")
    except WitError as err:
        assert err.message and "Traceback" not in err.render()
        assert err.location is not None, err.render()
        return
    for interface in definition.resolve.interfaces:  # the type model reads what wasm-tools resolved
        for function in interface.functions.values():
            assert function.signature().startswith(("func(", "async func("))


def test_the_notebooks_have_wit_cells_to_edit():
    assert WIT_CELLS
