"""Composing components in a notebook: WAC text in, an ordinary :class:`wasmlab.Component` out.

    calc = wasmlab.compose('''
        package demo:app;
        let adder = new demo:adder { ... };
        let calc = new demo:calculator { add: adder.add, ... };
        export calc.calculate;
    ''', name="app", namespace=globals())
    calc.calculate("1 + 2")

Where a package ``ns:name`` comes from, first match wins:

1. ``packages={"ns:name": value}`` - a :class:`~wasmlab.Component`, component bytes, or a path
   (``.wasm``, ``.wat``, a WIT folder); ``%%wac --dep ns:name=VAR_OR_PATH`` fills this in.
2. A component of the session (``namespace``; by default the running notebook's variables): one
   whose ``.name`` is ``ns:name``, else the variable called ``name`` (``-`` read as ``_``) if it
   holds a component.
   So ``%%component adder ...`` is what ``new demo:adder { ... }`` instantiates.
3. A WIT package defined earlier (``%%wit``), for its interfaces and worlds.  A package the
   document only takes types from (``import x: ns:name/iface``), not instantiates, is looked
   for here before step 2.
4. ``deps={"ns:name": path}``, then ``deps_dir`` laid out as wac expects (``DIR/ns/name.wasm``,
   ``DIR/ns/name.wat``, ``DIR/ns/name/`` holding WIT).
5. A registry, when the wkg configuration maps the package's namespace to one (or names a
   ``default_registry``): ``ns:name@1.0.0`` is pulled as ``REGISTRY/ns/name:1.0.0``
   (see :mod:`wasmlab.toolchain.registry`).

The result is always a :class:`ComposedComponent` (a :class:`wasmlab.Component`) whose
``.composition`` describes it (``.graph``, the :class:`CompositionGraph`; ``.wasm``, the encoded
composition; its picture displays in the notebook).  It embeds every component it instantiates,
so wasmtime runs it; with ``import_dependencies=True`` it imports them instead, as ``wac compose
--import-dependencies`` does (``.composition.wasm`` names them ``unlocked-dep=<ns:name>``): its
world and exports are there to look at, but calling it is a :class:`~wasmlab.errors.LinkError`,
since nothing can supply a component import.

:func:`plug` wires each plug's exports into the socket's imports of the same name (``wac plug``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from wasmlab import views, wac
from wasmlab.errors import LinkError, LoadError, WacError
from wasmlab.runtime.component import Component, load
from wasmlab.views import Displayable
from wasmlab.wac._graph import CompositionGraph

__all__ = ["compose", "compose_bytes", "plug", "Composition", "ComposedComponent", "session_packages"]


def _is_component(value) -> bool:
    return hasattr(value, "wasm_path") and hasattr(value, "resolve")


def session_packages(referenced, namespace: dict | None, instantiated: set | None = None) -> dict:
    """Packages for ``referenced`` names found among the session's components and WIT.

    A package the document instantiates (``new ns:name``) is looked for among components first;
    one it only takes types from (``import x: ns:name/iface``) among WIT packages first."""
    from wasmlab.toolchain.wit import registry

    found = {}
    components = {}
    if namespace:
        for var, value in namespace.items():
            if _is_component(value) and not var.startswith("_"):
                components.setdefault(var, value)
    by_declared = {c.name: c for c in components.values()}
    for name, version in referenced:
        key = name if version is None else f"{name}@{version}"
        short = name.partition(":")[2].replace("-", "_")
        wit = registry.find(key) or (registry.find(name) if version is None else None)
        wit = wit if wit is not None and wit.name.partition("@")[0] == name else None
        if key in by_declared:
            found[key] = by_declared[key]
        elif name in by_declared:
            found[name] = by_declared[name]
        elif short in components and (wit is None or instantiated is None or name in instantiated):
            found[key] = components[short]
        elif wit is not None:
            found[key] = _wit_package_bytes(wit.name)
    return found


def _notebook_namespace() -> dict | None:
    """The variables of the running IPython session, if any."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "user_ns", None)


def _wit_package_bytes(package: str) -> bytes:
    from wasmlab.toolchain.wit import registry
    from wasmlab.wac._package import wit_to_bytes

    with tempfile.TemporaryDirectory(prefix="wasmlab-wac-") as tmp:
        root = registry.materialize(package, Path(tmp) / "pkg")
        return wit_to_bytes(root)


def compose_bytes(wac_source: str, *, origin: str = "<wac>", packages: dict | None = None,
                  namespace: dict | None = None, deps: dict | None = None,
                  deps_dir: str | os.PathLike | None = None, import_dependencies: bool = False,
                  session: bool = True):
    """Parse, resolve and encode; returns ``(resolution, wasm bytes)``.  Raises located WacError.

    ``session=False`` looks for packages only in ``packages``, ``deps`` and ``deps_dir`` (as the
    ``wac`` command does), not among the session's components and WIT."""
    from wasmlab.toolchain.registry import fetch_package

    document = wac.parse(wac_source, origin)
    given = dict(packages or {})
    if namespace is None and session:
        namespace = _notebook_namespace()
    referenced = wac.package_references(document)
    instantiated = {name for (name, _), is_new in referenced.items() if is_new}
    missing = [ref for ref in referenced
               if (ref[0] if ref[1] is None else f"{ref[0]}@{ref[1]}") not in given and ref[0] not in given]
    if session:
        for key, value in session_packages(missing, namespace, instantiated).items():
            given.setdefault(key, value)
    try:
        resolution = wac.resolve(document, packages=given, deps=deps, deps_dir=deps_dir, registry=fetch_package)
    except WacError as err:
        if err.message.startswith("unknown package") and err.hint is None:
            err.hint = ("bind a component to a variable of that name (%%component NAME ...), pass "
                        "--dep ns:name=VAR_OR_PATH, put it in a --deps-dir, or map its namespace to a "
                        "registry in ~/.config/wasm-pkg/config.toml")
        raise
    return resolution, wac.encode(resolution, import_dependencies=import_dependencies)


def compose(wac_source: str, *, name: str = "composition", packages: dict | None = None,
            namespace: dict | None = None, deps: dict | None = None,
            deps_dir: str | os.PathLike | None = None, import_dependencies: bool = False,
            origin: str = "<wac>") -> "ComposedComponent":
    """Compose components with a WAC document into a :class:`ComposedComponent`: callable, unless
    ``import_dependencies`` (then it imports the components it instantiates and only describes)."""
    resolution, data = compose_bytes(wac_source, origin=origin, packages=packages, namespace=namespace,
                                     deps=deps, deps_dir=deps_dir, import_dependencies=import_dependencies)
    # wasmtime refuses ``unlocked-dep=<...>`` names: load the same component with plain names
    loadable = wac.encode(resolution, import_dependencies=True, plain_dependency_names=True) \
        if import_dependencies else data
    # embedded components are read back from the loaded component's file, not kept in the kernel
    composition = Composition(_described(resolution.graph), name, data if import_dependencies else None,
                              imports_dependencies=import_dependencies)
    return ComposedComponent.of(load(loadable, name=name), composition)


def plug(socket, *plugs, name: str | None = None) -> "ComposedComponent":
    """Plug the exports of ``plugs`` (components, bytes or paths) into the matching imports of ``socket``."""
    if not plugs:
        raise WacError("give at least one plug", hint="wasmlab.plug(socket, plug1, plug2, ...)")
    graph, data = wac.plug_bytes(_wasm(socket), [(_stem(p), _wasm(p)) for p in plugs], socket_name=_stem(socket))
    result_name = name or f"{_stem(socket)}_plugged"
    return ComposedComponent.of(load(data, name=result_name), Composition(_described(graph), result_name, None))


def _described(graph: CompositionGraph) -> CompositionGraph:
    """The graph once encoded, kept to describe the composition: its packages' bytes (whole components,
    tens of MB each for Python guests) are let go, as nothing encodes it again."""
    for package in graph.packages():
        package.bytes = None
    return graph


class ComposedComponent(Component):
    """A component made by :func:`compose` or :func:`plug`; ``.composition`` tells what it is made of.

    When it imports the components it instantiates (``import_dependencies=True``) it cannot run
    on its own: calling it raises a :class:`~wasmlab.errors.LinkError`."""

    composition: "Composition"

    @classmethod
    def of(cls, component: Component, composition: "Composition") -> "ComposedComponent":
        composed = cls.__new__(cls)
        composed.__dict__.update(vars(component))
        composed.composition = composition
        composition.component = composed
        return composed

    def compiled(self, *args, **kwargs):
        if self.composition.imports_dependencies:
            packages = sorted({key for _, _, key in self.composition.instances})
            raise LinkError(f"{self.name} imports the components it instantiates ({', '.join(packages)}): "
                            "it cannot run on its own",
                            hint="compose without import_dependencies to embed them; the encoded composition "
                                 "is .composition.wasm")
        return super().compiled(*args, **kwargs)


def _wasm(value) -> bytes:
    if _is_component(value):
        return Path(value.wasm_path).read_bytes()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:
        return Path(value).read_bytes()
    except (OSError, TypeError) as exc:
        raise LoadError(f"cannot read {value!r} as a component: {getattr(exc, 'strerror', None) or exc}",
                        hint="give a Component, component bytes or the path of a .wasm file") from None


def _stem(value) -> str:
    if _is_component(value):
        return value.name
    if isinstance(value, (str, os.PathLike)):
        return Path(value).stem
    return "component"


# --- what a composition is made of, for people ------------------------------------------------

@dataclass
class Composition(Displayable):
    """The instances of a composition, how their imports are satisfied, and what it exports."""

    graph: CompositionGraph
    name: str
    encoded: bytes | None  # the encoded composition when it is not the component's own file (import_dependencies)
    component: object = None
    imports_dependencies: bool = False  # it imports the components it instantiates (wac's --import-dependencies)
    instances: list = field(default_factory=list)     # (node, label, package key)
    wires: list = field(default_factory=list)         # (from node or "host:...", to node, label)
    host_imports: list = field(default_factory=list)  # (import name, [instantiation nodes])
    exports: list = field(default_factory=list)       # (name, node providing it, export of it)

    def __post_init__(self):
        g = self.graph
        for n in g.node_ids():
            node = g[n]
            if node.kind == "instantiation":
                self.instances.append((n, node.name or f"#{n}", g.package(node.package).key))
        host: dict[str, list] = {}
        for n, _, _ in self.instances:
            node = g[n]
            for import_name, source in g.get_instantiation_arguments(n)[::-1]:
                origin, export = self._origin(source)
                self.wires.append((origin, n, import_name if export in (None, import_name)
                                   else f"{export} -> {import_name}"))
            world = g.package(node.package).ty
            for i, import_name in enumerate(world.imports):
                if i not in node.satisfied:
                    host.setdefault(import_name, []).append(n)
        self.host_imports = list(host.items())
        for export_name, n in g.exports().items():
            origin, export = self._origin(n)
            self.exports.append((export_name, origin, export))

    @property
    def wasm(self) -> bytes:
        """The encoded composition."""
        return self.encoded if self.encoded is not None else self.component.wasm

    def _origin(self, node: int):
        """The instance (or import) an item comes from, and the export name it has there."""
        g = self.graph
        item = g[node]
        if item.kind == "alias":
            source, export = g.get_alias_source(node)
            return source, export
        if item.kind == "import":
            return f"import:{item.import_name}", None
        return node, None

    def label(self, origin) -> str:
        if isinstance(origin, str):
            return origin.partition(":")[2]
        for n, label, _ in self.instances:
            if n == origin:
                return label
        return f"#{origin}"

    def text(self) -> str:
        lines = [f"composition {self.name}"]
        width = max([len(label) for _, label, _ in self.instances] + [1])
        for n, label, key in self.instances:
            lines.append(f"  {label.ljust(width)} = new {key}")
            for origin, target, wire in self.wires:
                if target == n:
                    source = self.label(origin)
                    lines.append(f"      {wire} <- {source}")
            from wasmlab.capabilities import group_imports

            from_host = [name for name, users in self.host_imports if n in users]
            wasi = group_imports(from_host)
            if wasi:
                lines.append(f"      WASI {', '.join(wasi)} <- host")
            grouped = {name for names in wasi.values() for name in names}
            for import_name in from_host:
                if import_name not in grouped:
                    lines.append(f"      {import_name} <- host")
        for export_name, origin, export in self.exports:
            lines.append(f"  export {export_name} <- {self.label(origin)}"
                         + (f".{export}" if export and export != export_name else ""))
        return "\n".join(lines)

    def picture(self):
        return views.make("composition graph", self)

    def __repr__(self) -> str:
        return self.text()

