"""Widgets: the grants panel.  ipywidgets is imported here only, when a widget is asked for."""

from __future__ import annotations

import ipywidgets as w
from IPython.display import display

from wasmlab.capabilities import Grants, Limits, parse_size
from wasmlab.errors import WasmlabError

__all__ = ["GrantsPanel", "CallForm", "call_forms"]


# ipywidgets cuts descriptions at a fixed width ("environm…"): let each label take the width it needs
_WHOLE_LABEL = {"description_width": "initial"}


class GrantsPanel(w.VBox):
    """Edit a component's grants and limits; "Re-run" repeats its last call or command.

    Directory rows take ``HOST::GUEST`` (read-only when ticked), environment variables one
    ``NAME=VALUE`` per line.  The output area shows the result and the capability report.
    """

    def __init__(self, component, **kwargs):
        self.component = component
        grants, limits = component.grants, component.limits
        self.dirs = w.Textarea(value="\n".join(f"{d.host}::{d.guest}" for d in grants.dirs if not d.read_only),
                               placeholder="HOST::GUEST, one per line", description="read-write", style=_WHOLE_LABEL)
        self.ro_dirs = w.Textarea(value="\n".join(f"{d.host}::{d.guest}" for d in grants.dirs if d.read_only),
                                  placeholder="HOST::GUEST, one per line", description="read-only",
                                  style=_WHOLE_LABEL)
        self.env = w.Textarea(value="\n".join(f"{k}={v}" for k, v in grants.env),
                              placeholder="NAME=VALUE, one per line", description="environment", style=_WHOLE_LABEL)
        self.network = w.Checkbox(value=grants.network, description="outbound sockets", style=_WHOLE_LABEL)
        self.name_lookup = w.Checkbox(value=grants.ip_name_lookup, description="name lookup", style=_WHOLE_LABEL)
        self.timeout = w.FloatText(value=limits.timeout or 0.0, description="timeout (s)", style=_WHOLE_LABEL)
        self.max_memory = w.Text(value="" if limits.max_memory is None else str(limits.max_memory),
                                 placeholder="e.g. 64M", description="max memory", style=_WHOLE_LABEL)
        self.rerun = w.Button(description="Re-run", button_style="primary", icon="play")
        self.output = w.Output()
        self.rerun.on_click(lambda _button: self.run())
        self.last_result = None
        self.last_report = None
        super().__init__([
            w.HTML(f"<b>Grants for {component.name}</b>"),
            w.HBox([self.dirs, self.ro_dirs]), self.env, w.HBox([self.network, self.name_lookup]),
            w.HBox([self.timeout, self.max_memory]), self.rerun, self.output,
        ], **kwargs)

    def grants(self) -> Grants:
        """The grants the widgets describe now."""
        grants = Grants()
        for text, read_only in ((self.dirs.value, False), (self.ro_dirs.value, True)):
            for line in filter(None, (l.strip() for l in text.splitlines())):
                host, sep, guest = line.partition("::")
                grants = grants.with_dir(host, guest if sep else host, read_only=read_only)
        for line in filter(None, (l.strip() for l in self.env.value.splitlines())):
            name, _, value = line.partition("=")
            grants = grants.with_env(**{name.strip(): value})
        if self.network.value or self.name_lookup.value:
            grants = grants.with_network(sockets=self.network.value, name_lookup=self.name_lookup.value)
        return grants

    def limits(self) -> Limits:
        memory = self.max_memory.value.strip()
        return Limits(timeout=self.timeout.value or None, max_memory=parse_size(memory) if memory else None)

    def run(self):
        """Apply the grants and repeat the component's last call or command; returns its result
        (or the error it ended with) and shows it with the capability report below the panel."""
        self.output.clear_output()
        try:
            self.component.grants = self.grants()
            self.component.limits = self.limits()
            if self.component.last_action is None:
                raise WasmlabError("nothing to re-run yet", hint="call a function or run the component once")
            result = self.component.last_action()
        except WasmlabError as err:
            result = err
        self.last_result, self.last_report = result, self.component.report()
        with self.output:
            if isinstance(result, WasmlabError):
                print(result.render())
            else:
                display(result)
            display(self.last_report)
        return result


# ---- call forms ------------------------------------------------------------------------------
_INT_RANGES = {
    "u8": (0, (1 << 8) - 1), "u16": (0, (1 << 16) - 1), "u32": (0, (1 << 32) - 1), "u64": (0, (1 << 64) - 1),
    "s8": (-(1 << 7), (1 << 7) - 1), "s16": (-(1 << 15), (1 << 15) - 1), "s32": (-(1 << 31), (1 << 31) - 1),
    "s64": (-(1 << 63), (1 << 63) - 1),
}


class _Field:
    """An input for one value of a WIT type: ``widget`` to show, ``value()`` to read it as a call takes it."""

    def __init__(self, label: str, ty):
        self.label = label
        self.ty = ty
        self.widget = self._build()

    def _build(self):
        raise NotImplementedError

    def value(self):
        raise NotImplementedError


class _Checkbox(_Field):
    def _build(self):
        return w.Checkbox(value=False, description=self.label)

    def value(self):
        return self.widget.value


class _Int(_Field):
    def _build(self):
        low, high = _INT_RANGES[self.ty.kind]
        return w.BoundedIntText(value=0, min=low, max=high, description=self.label,
                                tooltip=f"{self.ty.kind}: {low} to {high}")

    def value(self):
        return self.widget.value


class _Float(_Field):
    def _build(self):
        return w.FloatText(value=0.0, description=self.label, tooltip=self.ty.kind)

    def value(self):
        return self.widget.value


class _Text(_Field):
    """string and char: the text as typed."""

    def _build(self):
        return w.Text(value="", description=self.label, placeholder=self.ty.wit(),
                      tooltip=self.ty.wit())

    def value(self):
        return self.widget.value


class _Wave(_Field):
    """Lists, tuples, results and what has no widget of its own: WAVE text (``[1, 2]``, ``(1, "a")``)."""

    def _build(self):
        from wasmlab import wave

        self._wave = wave
        return w.Text(value="", description=self.label, placeholder=f"{self.ty.wit()} in WAVE, e.g. {_example(self.ty)}",
                      tooltip=f"{self.ty.wit()} written as WAVE text")

    def value(self):
        return self._wave.parse(self.widget.value, self.ty, origin=self.label)


class _Dropdown(_Field):
    """An enum: one of its cases."""

    def _build(self):
        return w.Dropdown(options=list(self.ty.cases), value=self.ty.cases[0], description=self.label)

    def value(self):
        return self.widget.value


class _FlagSet(_Field):
    """Flags: a checkbox per flag."""

    def _build(self):
        self.boxes = {name: w.Checkbox(value=False, description=name, indent=False) for name in self.ty.flags}
        return w.VBox([w.Label(self.label), w.HBox(list(self.boxes.values()))])

    def value(self):
        return {name for name, box in self.boxes.items() if box.value}


class _Record(_Field):
    """A record: a field input per record field, nested."""

    def _build(self):
        self.fields = {name: _field(name, fty) for name, fty in self.ty.fields}
        body = w.VBox([f.widget for f in self.fields.values()], layout=w.Layout(margin="0 0 0 2em"))
        return w.VBox([w.Label(f"{self.label}: {self.ty.name}"), body])

    def value(self):
        return {name: f.value() for name, f in self.fields.items()}


class _Variant(_Field):
    """A variant: a dropdown of cases and the payload input of the chosen case."""

    def _build(self):
        self.cases = dict(self.ty.cases)
        self.payloads = {case: _field("value", pty) for case, pty in self.cases.items() if pty is not None}
        self.case = w.Dropdown(options=list(self.cases), value=next(iter(self.cases)), description=self.label)
        self.payload_box = w.VBox(layout=w.Layout(margin="0 0 0 2em"))
        self.case.observe(lambda _change: self._show_payload(), names="value")
        self._show_payload()
        return w.VBox([self.case, self.payload_box])

    def _show_payload(self):
        field = self.payloads.get(self.case.value)
        self.payload_box.children = [field.widget] if field is not None else []

    def value(self):
        from wasmlab.values import Variant

        field = self.payloads.get(self.case.value)
        return Variant(self.case.value, field.value() if field is not None else None)


class _Option(_Field):
    """An option: a checkbox (``some``) and the inner input, used only when ticked."""

    def _build(self):
        self.inner = _field(self.label, self.ty.inner)
        self.some = w.Checkbox(value=False, description="some", indent=False, layout=w.Layout(width="6em"))
        self.some.observe(lambda _change: self._sync(), names="value")
        self._sync()
        return w.HBox([self.some, self.inner.widget])

    def _sync(self):
        _set_disabled(self.inner.widget, not self.some.value)

    def value(self):
        from wasmlab.values import Some

        return Some(self.inner.value()) if self.some.value else None


class _Unsupported(_Field):
    def _build(self):
        return w.Label(f"{self.label}: {self.ty.wit()} cannot be entered in a form (call from Python)")

    def value(self):
        raise WasmlabError(f"{self.label} is a {self.ty.wit()}: it cannot be entered in a form",
                           hint="call the function from Python with a handle")


def _set_disabled(widget, disabled: bool) -> None:
    if hasattr(widget, "disabled"):
        widget.disabled = disabled
    for child in getattr(widget, "children", ()):
        _set_disabled(child, disabled)


def _example(ty) -> str:
    from wasmlab.wittypes import ListT, TupleT, unalias

    ty = unalias(ty)
    if isinstance(ty, ListT):
        return "[1, 2]" if not isinstance(unalias(ty.element), ListT) else "[[1], []]"
    if isinstance(ty, TupleT):
        return "(" + ", ".join("1" for _ in ty.elements) + ")"
    return "ok(1)"


def _field(label: str, ty) -> _Field:
    from wasmlab.wittypes import BorrowT, EnumT, FlagsT, OptionT, OwnT, Prim, RecordT, VariantT, unalias

    ty = unalias(ty)
    if isinstance(ty, Prim):
        if ty.kind == "bool":
            return _Checkbox(label, ty)
        if ty.kind in _INT_RANGES:
            return _Int(label, ty)
        if ty.kind in ("f32", "f64"):
            return _Float(label, ty)
        if ty.kind in ("char", "string"):
            return _Text(label, ty)
        return _Unsupported(label, ty)
    if isinstance(ty, EnumT):
        return _Dropdown(label, ty)
    if isinstance(ty, FlagsT):
        return _FlagSet(label, ty)
    if isinstance(ty, RecordT):
        return _Record(label, ty)
    if isinstance(ty, VariantT):
        return _Variant(label, ty)
    if isinstance(ty, OptionT):
        return _Option(label, ty)
    if isinstance(ty, (OwnT, BorrowT)):
        return _Unsupported(label, ty)
    return _Wave(label, ty)


class CallForm(w.VBox):
    """A form for one exported function, generated from its WIT signature.

    Each parameter gets an input that fits its type (number fields bounded to the type's
    range, text, dropdowns for enums and variant cases, checkboxes for flags, nested records,
    an option's ``some`` checkbox, WAVE text for lists and tuples).  "Call" calls the function
    and shows the result as WAVE, or the error; ``last_result`` / ``last_error`` keep them.
    """

    def __init__(self, function, **kwargs):
        from wasmlab.wittypes import unalias

        self.function = function
        wit = function.function
        self.fields = {name: _field(name, ty) for name, ty in wit.params}
        self.call_button = w.Button(description="Call", button_style="primary", icon="play")
        self.call_button.on_click(lambda _button: self.call())
        self.result = w.HTML()
        self.last_result = None
        self.last_error: WasmlabError | None = None
        self._result_type = wit.result
        self._unalias = unalias
        super().__init__([w.HTML(f"<b>{_html(function.name)}</b>: <code>{_html(wit.signature())}</code>"),
                          *[f.widget for f in self.fields.values()], self.call_button, self.result], **kwargs)

    def values(self) -> list:
        """The arguments the inputs describe now."""
        return [f.value() for f in self.fields.values()]

    @property
    def result_text(self) -> str:
        """What the form shows under the button, as plain text."""
        import html
        import re

        return html.unescape(re.sub(r"<[^>]+>", "", self.result.value))

    def call(self):
        """Call the function with the inputs' values; shows and returns the result (or the error)."""
        from wasmlab import wave

        self.last_result, self.last_error = None, None
        try:
            value = self.function.result(*self.values())
        except WasmlabError as err:
            self.last_error = err
            self.result.value = f"<pre style='color: #b00'>{_html(err.render())}</pre>"
            return err
        self.last_result = value
        shown = "(no result)" if self._result_type is None else wave.format(value, self._result_type)
        self.result.value = f"<pre>{_html(shown)}</pre>"
        return value


def _html(text: str) -> str:
    import html

    return html.escape(text)


def call_forms(component) -> w.Accordion:
    """A form per exported function of ``component`` (resource functions are called from Python)."""
    forms = [CallForm(component.export(name)) for name in component._function_names()
             if "[" not in name]
    accordion = w.Accordion(children=forms)
    for i, form in enumerate(forms):
        accordion.set_title(i, form.function.name)
    return accordion
