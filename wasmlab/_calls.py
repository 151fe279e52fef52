"""Calling component functions with Python values (the plain path through wasmtime-py)."""

from __future__ import annotations

from wasmtime import component as wc

from ._wittypes import Function, RecordT, unalias
from .errors import ArgumentError

__all__ = ["call", "host_function"]


def _to_wasmtime(ty, value):
    ty = unalias(ty)
    if isinstance(ty, RecordT) and isinstance(value, dict):
        record = wc.Record()
        for name, field_ty in ty.fields:
            setattr(record, name.replace("-", "_"), _to_wasmtime(field_ty, value[name.replace("-", "_")]))
        return record
    if isinstance(value, list):
        from ._wittypes import ListT

        if isinstance(ty, ListT):
            return [_to_wasmtime(ty.element, v) for v in value]
    return value


def call(store, func, function: Function, args: tuple, kwargs: dict, *, name: str):
    params = function.params
    values = list(args)
    for pname, _ in params[len(args):]:
        key = pname.replace("-", "_")
        if key not in kwargs:
            raise ArgumentError(f"{name} takes {len(params)} argument(s): "
                                + ", ".join(f"{n}: {t.wit()}" for n, t in params))
        values.append(kwargs.pop(key))
    if kwargs or len(values) != len(params):
        raise ArgumentError(f"{name} takes {len(params)} argument(s): "
                            + ", ".join(f"{n}: {t.wit()}" for n, t in params))
    converted = [_to_wasmtime(t, v) for (_, t), v in zip(params, values)]
    try:
        result = func(store, *converted)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgumentError(f"{name}: {exc}") from None
    func.post_return(store)
    return result


def host_function(impl, function: Function, name: str):
    def host(_store, *args):
        return impl(*args)

    return host
