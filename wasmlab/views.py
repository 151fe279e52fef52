"""How wasmlab's objects reach a notebook without the lower layers importing the notebook layer.

A class that displays itself mixes in :class:`Displayable`; the notebook layer
(:mod:`wasmlab.notebook.display`) registers, per class, the function that makes its MIME bundle
(:func:`shows`), and the widgets and pictures some objects offer (:func:`offers`).  Until it is
imported, an object displays its ``repr`` as text; ``import wasmlab`` imports it.

>>> class Note(Displayable):
...     def __repr__(self):
...         return "a note"
>>> Note()._repr_mimebundle_()
{'text/plain': 'a note'}
>>> @shows(Note)
... def _note_bundle(note):
...     return {"text/plain": repr(note), "text/html": "<b>a note</b>"}
>>> sorted(Note()._repr_mimebundle_())
['text/html', 'text/plain']
"""

from __future__ import annotations

from wasmlab.errors import WasmlabError

__all__ = ["Displayable", "shows", "offers", "make"]

_BUNDLES: dict[type, object] = {}
_MAKERS: dict[str, object] = {}


class Displayable:
    """Displays through the bundle function registered for its class (or a base class)."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        for cls in type(self).__mro__:
            bundle = _BUNDLES.get(cls)
            if bundle is not None:
                return bundle(self)
        return {"text/plain": repr(self)}


def shows(cls: type):
    """Register the decorated function as the MIME bundle maker of ``cls``'s instances."""
    def register(function):
        _BUNDLES[cls] = function
        return function
    return register


def offers(name: str):
    """Register the decorated callable as what :func:`make` ``(name, ...)`` calls."""
    def register(function):
        _MAKERS[name] = function
        return function
    return register


def make(name: str, *args, **kwargs):
    """Make the widget or picture registered as ``name`` (``"grants panel"``, ``"capability graph"``...)."""
    maker = _MAKERS.get(name)
    if maker is None:
        raise WasmlabError(f"no {name} without the notebook layer", hint="import wasmlab.notebook.display")
    return maker(*args, **kwargs)
