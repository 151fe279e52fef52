"""The cell magics: thin layers that parse options, call the Python API and return its object.

``%%wit``        validate and register WIT packages (:func:`wasmlab.define_wit`)
``%%component``  build a component from Python or WAT in the cell, or a stub (:func:`wasmlab.build`)
``%component``   the same for a stub or an existing ``.wasm`` (:func:`wasmlab.load`)
``%%wat``        a core module in WAT to call and run (:func:`wasmlab.load_module`)
``%%wac``        compose components with WAC (:func:`wasmlab.compose`)

Settings are traitlets, so ``%config Wasmlab.progress = False`` works.
"""

from __future__ import annotations

import dataclasses
import keyword

from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, List, Unicode, observe
from traitlets.config import Configurable

from wasmlab.errors import WasmlabError

__all__ = ["Wasmlab"]


@magics_class
class Wasmlab(Magics, Configurable):
    """wasmlab's magics.  Configure with ``%config Wasmlab.<setting> = value``."""

    progress = Bool(True, help="Show build and compile progress in the cell.").tag(config=True)
    deps_dir = Unicode(None, allow_none=True,
                       help="A folder of WIT packages (and components for WAC) that cells may depend on.").tag(config=True)
    shared_cache = List(Unicode(), help="Read-only build caches searched before your own (a classroom's warm "
                        "cache); empty: $WASMLAB_SHARED_CACHE.").tag(config=True)

    @observe("shared_cache")
    def _shared_cache_changed(self, change):
        from wasmlab.toolchain import cache

        cache.set_shared_dirs(change["new"] or None)

    def __init__(self, shell=None, **kwargs):
        Magics.__init__(self, shell=shell)
        Configurable.__init__(self, config=shell.config if shell is not None else None, **kwargs)
        if shell is not None:
            shell.configurables.append(self)

    def _origin(self) -> str:
        count = getattr(self.shell, "execution_count", None)
        return f"cell [{count}]" if count else "cell"

    def _run(self, line: str, cell: str | None, work):
        """Run ``work(origin)``; errors located in the cell body move down past the magic line."""
        origin = self._origin()
        try:
            return work(origin)
        except WasmlabError as err:
            if cell is not None and err.location is not None and err.location.origin == origin:
                err.location = dataclasses.replace(err.location, line=err.location.line + 1,
                                                   text=f"{line}\n{cell}")
            raise

    def _bind(self, name: str | None, value):
        if name:
            if not name.isidentifier() or keyword.iskeyword(name):
                raise WasmlabError(f"{name!r} is not a Python name", hint="name it like a variable: shop, my_app")
            self.shell.user_ns[name] = value
        return value

    @magic_arguments()
    @argument("--deps", default=None, help="a folder of WIT packages this cell depends on")
    @cell_magic
    def wit(self, line: str, cell: str):
        """Validate WIT packages and register them for later cells; shows the WIT and its worlds."""
        args = parse_argstring(self.wit, line)
        from wasmlab.toolchain.wit import define

        return self._run(f"%%wit {line}".rstrip(), cell,
                         lambda origin: define(cell, origin=origin, deps_dir=args.deps or self.deps_dir))

    @magic_arguments()
    @argument("name", help="the Python variable the component is bound to")
    @argument("--world", "-w", default=None, help="the world it implements: ns:pkg/world or a bare world name")
    @argument("--wat", action="store_true", help="the cell is WAT (a component, or a core module for --world)")
    @argument("--js", action="store_true", help="the cell is a JavaScript module (componentize-js)")
    @argument("--js-feature", action="append", default=None, metavar="FEATURE",
              help="a componentize-js feature beyond stdio, random and clocks: http (fetch)")
    @argument("--stub", action="store_true", help="no source: every export of --world traps")
    @argument("--load", default=None, metavar="PATH", help="load an existing .wasm/.wat component, or pull "
              "oci://HOST/REPO:TAG (or @sha256:...) from a registry")
    @argument("--deps", default=None, help="a folder of WIT packages the world depends on")
    @line_cell_magic
    def component(self, line: str, cell: str | None = None):
        """Build a component from the cell (Python by default, ``--wat`` for WAT), a ``--stub``
        of a world, or ``--load`` a file; binds it to NAME and shows what it imports and exports."""
        args = parse_argstring(self.component, line)
        from wasmlab import api as wasmlab

        deps = args.deps or self.deps_dir

        def work(origin):
            if args.load:
                return wasmlab.load(args.load, name=args.name)
            if args.stub or cell is None or not cell.strip():
                if not args.stub:
                    raise WasmlabError("nothing to build", hint="write Python (or --wat) in the cell, or pass --stub")
                return wasmlab.build(world=args.world, stub=True, name=args.name, deps_dir=deps,
                                     progress=self.progress)
            if args.js:
                return wasmlab.build(world=args.world, js=cell, js_features=args.js_feature, name=args.name,
                                     origin=origin, deps_dir=deps, progress=self.progress)
            if args.wat:
                return wasmlab.build(world=args.world, wat=cell, name=args.name, origin=origin, deps_dir=deps,
                                     progress=self.progress)
            return wasmlab.build(world=args.world, python=cell, name=args.name, origin=origin, deps_dir=deps,
                                 progress=self.progress)

        built = self._run(f"%%component {line}", cell, work)
        from wasmlab.runtime.wasmtime_command import compile_for_this_host

        compile_for_this_host(built)  # the first compile belongs to this cell's progress, not to the first call
        return self._bind(args.name, built)

    @magic_arguments()
    @argument("name", help="the Python variable the module (or component) is bound to")
    @argument("--world", "-w", default=None, help="make the core module a component implementing this world")
    @cell_magic
    def wat(self, line: str, cell: str):
        """WAT in the cell: a core ``(module ...)`` you can call and run, or a ``(component ...)``;
        with ``--world`` a core module is wrapped into a component of that world."""
        args = parse_argstring(self.wat, line)
        from wasmlab import api as wasmlab
        from wasmlab.toolchain.tools import wat_is_component, wat_is_empty

        def work(origin):
            if wat_is_empty(cell):
                raise WasmlabError("the %%wat cell is empty", hint="write a (module ...) or a (component ...)")
            if args.world is not None or wat_is_component(cell):
                return wasmlab.build(world=args.world, wat=cell, name=args.name, origin=origin,
                                     progress=self.progress)
            return wasmlab.load_module(cell, name=args.name, origin=origin)

        return self._bind(args.name, self._run(f"%%wat {line}", cell, work))

    @magic_arguments()
    @argument("name", help="the Python variable the composed component is bound to")
    @argument("--deps-dir", default=None, help="packages laid out as wac expects: DIR/ns/name.wasm|.wat|/")
    @argument("--dep", action="append", default=[], metavar="NS:NAME=VAR_OR_PATH",
              help="a package: a component variable of the notebook, or a file (repeatable)")
    @argument("--import-dependencies", action="store_true",
              help="import the instantiated components instead of embedding them")
    @cell_magic
    def wac(self, line: str, cell: str):
        """Compose components with WAC; binds the composed component to NAME and shows how its
        instances are wired.  Packages come from the notebook's components (``new demo:adder``
        finds ``adder``), ``--dep``, WIT defined earlier, then ``--deps-dir``."""
        args = parse_argstring(self.wac, line)
        from wasmlab.composition import compose

        namespace = self.shell.user_ns if self.shell is not None else {}
        packages, deps = {}, {}
        for spec in args.dep:
            package, sep, target = spec.partition("=")
            if not sep or not package or not target:
                raise WasmlabError(f"--dep {spec!r} is not ns:name=VAR_OR_PATH", hint="--dep demo:adder=adder")
            if target.isidentifier() and target in namespace:
                packages[package] = namespace[target]
            else:
                deps[package] = target

        def work(origin):
            return compose(cell, name=args.name, packages=packages, namespace=namespace, deps=deps,
                           deps_dir=args.deps_dir or self.deps_dir,
                           import_dependencies=args.import_dependencies, origin=origin)

        result = self._run(f"%%wac {line}", cell, work)
        self._bind(args.name, result)
        return getattr(result, "composition", result)

    @line_magic
    def wasmlab(self, line: str):
        """``%wasmlab cache clear`` empties the build cache; ``%wasmlab packages`` lists WIT packages."""
        words = line.split()
        from wasmlab.toolchain import cache, wit

        if words == ["cache", "clear"]:
            cache.clear()
            return None
        if words == ["packages"]:
            return sorted(p.name for p in wit.registry)
        raise WasmlabError(f"unknown %wasmlab command {line!r}", hint="try: %wasmlab packages, %wasmlab cache clear")
