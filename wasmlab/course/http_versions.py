"""wasi:http 0.2 next to 0.3, counted from the WIT wasmlab ships, beside the seed deck's claim
(the async lesson checks it)."""

from __future__ import annotations

from dataclasses import dataclass

from wasmlab.course.deck import HTTP_CLAIM
from wasmlab.errors import WasmlabError
from wasmlab.views import Displayable

__all__ = ["HttpShape", "http_shape", "HttpComparison", "compare_http"]


@dataclass
class HttpShape:
    """What one version of ``wasi:http`` asks a programmer to learn."""

    version: str
    resources: list[str]
    handlers: list[str]
    io_resources: list[str]  # resources of other packages the http interfaces use (wasi:io's in 0.2)

    def __repr__(self) -> str:
        return (f"wasi:http@{self.version}: {len(self.resources)} resources ({', '.join(self.resources)}), "
                f"{len(self.handlers)} handler(s) ({', '.join(self.handlers)})")


_SHAPE_WIT = """\
package wasmlab:http-shape;
world v{tag} {{ include wasi:http/{world}@{version}; }}
"""


def http_shape(version: str) -> HttpShape:
    """Count the resources and the request handlers of ``wasi:http@version`` in the WIT that
    wasmlab ships (the WebAssembly/WASI definitions carried by spin-sdk).

    A handler is an interface whose name ends in ``handler``: 0.2 has ``incoming-handler`` and
    ``outgoing-handler``; 0.3 has one ``handler`` (its ``client`` reuses the same signature).
    """
    from wasmlab.toolchain import wit
    from wasmlab.wittypes import ResourceT, unalias

    world = "proxy" if version.startswith("0.2") else "service"
    registry = wit.WitRegistry()
    definition = registry.define(_SHAPE_WIT.format(tag=version.replace(".", "-"), world=world, version=version),
                                 origin=f"<wasi:http@{version}>")
    package = definition.resolve.package(f"wasi:http@{version}")
    if package is None:
        raise WasmlabError(f"wasmlab ships no wasi:http@{version}")
    resources, handlers, used = set(), [], set()
    for name, iface in package.interfaces.items():
        if name.endswith("handler"):
            handlers.append(name)
        for tname, ty in iface.types.items():
            if isinstance(ty, ResourceT):
                resources.add(tname)
            else:
                target = unalias(ty)
                if isinstance(target, ResourceT) and not (target.owner or "").startswith("wasi:http/"):
                    used.add(f"{(target.owner or '?').split('@')[0]}.{target.name}")
    return HttpShape(version, sorted(resources), handlers, sorted(used))


class HttpComparison(Displayable):
    """wasi:http 0.2 next to 0.3, counted from the WIT, with the seed deck's claim."""

    CLAIM = HTTP_CLAIM

    def __init__(self, old: HttpShape, new: HttpShape):
        self.old, self.new = old, new

    def rows(self) -> list[tuple]:
        """(package, its own resources, resources it uses from wasi:io, handlers, the deck's claim)."""
        out = []
        for shape, claim in ((self.old, self.CLAIM["0.2"]), (self.new, self.CLAIM["0.3"])):
            out.append((f"wasi:http@{shape.version}", len(shape.resources), len(shape.io_resources),
                        len(shape.handlers), f"{claim[0]} resources, {claim[1]} handler(s)"))
        return out

    HEAD = ("package", "resources", "+ wasi:io", "handlers", "seed deck says")

    def __repr__(self) -> str:
        lines = [f"{self.HEAD[0]:17} {self.HEAD[1]:>9} {self.HEAD[2]:>9} {self.HEAD[3]:>8}   {self.HEAD[4]}"]
        for name, own, used, hand, claim in self.rows():
            lines.append(f"{name:17} {own:>9} {used:>9} {hand:>8}   {claim}")
        for shape in (self.old, self.new):
            used = f"; uses {', '.join(shape.io_resources)}" if shape.io_resources else ""
            lines.append(f"{shape.version}: {', '.join(shape.resources)}{used}; handlers: {', '.join(shape.handlers)}")
        return "\n".join(lines)


def compare_http(old: str = "0.2.6", new: str = "0.3.0") -> HttpComparison:
    """Measure how much smaller wasi:http became from ``old`` to ``new``."""
    return HttpComparison(http_shape(old), http_shape(new))
