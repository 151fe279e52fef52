"""The layers of docs/architecture.md, checked from the code: every import (also inside a function)
goes to the same layer or one below, and no two modules import each other, directly or round a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wasmlab"

# lowest first; a module may import its own layer and those before it
LAYERS = [
    ("errors",),
    ("views", "wittypes", "progress"),
    ("values", "wave", "capabilities"),
    ("toolchain",),
    ("wac",),
    ("runtime",),
    ("composition", "course"),
    ("api",),
    ("notebook",),
    ("cli",),
    ("__init__",),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The wasmlab modules ``name`` imports anywhere in its file (``from a import b`` counts
    ``a.b`` when that is a module)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("wasmlab"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("wasmlab"):
                continue
            subs = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(subs or {target})
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return RANK[parts[1] if len(parts) > 1 else "__init__"]


def test_every_module_has_a_layer():
    unplaced = [m for m in modules() if (m.split(".") + ["__init__"])[1] not in RANK]
    assert not unplaced, f"add these to LAYERS (and docs/architecture.md): {unplaced}"


def test_no_module_imports_a_layer_above_it():
    upward = sorted(f"{m} -> {t}" for m, targets in graph().items() for t in targets if layer(t) > layer(m))
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def test_no_import_cycles():
    edges = graph()
    # a package's __init__ importing its own modules is not a loop back into it
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_wac_language_imports_only_errors_and_the_tool_runner():
    allowed = {"wasmlab.errors", "wasmlab.toolchain.tools"}
    outside = sorted(f"{m} -> {t}" for m, targets in graph().items() if m.startswith("wasmlab.wac")
                     for t in targets if not t.startswith("wasmlab.wac") and t not in allowed)
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize("module", ["wasmlab.views"])
def test_the_checker_sees_imports_inside_functions(module, tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from wasmlab import errors\n")
    assert imports_of("wasmlab.probe", source, {"wasmlab.errors"}) == {"wasmlab.errors"}
