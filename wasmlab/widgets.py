"""Widgets: the grants panel.  ipywidgets is imported here only, when a widget is asked for."""

from __future__ import annotations

import ipywidgets as w
from IPython.display import display

from .capabilities import Grants, Limits, parse_size
from .errors import WasmlabError

__all__ = ["GrantsPanel"]


class GrantsPanel(w.VBox):
    """Edit a component's grants and limits; "Re-run" repeats its last call or command.

    Directory rows take ``HOST::GUEST`` (read-only when ticked), environment variables one
    ``NAME=VALUE`` per line.  The output area shows the result and the capability report.
    """

    def __init__(self, component, **kwargs):
        self.component = component
        grants, limits = component.grants, component.limits
        self.dirs = w.Textarea(value="\n".join(f"{d.host}::{d.guest}" for d in grants.dirs if not d.read_only),
                               placeholder="HOST::GUEST, one per line", description="read-write")
        self.ro_dirs = w.Textarea(value="\n".join(f"{d.host}::{d.guest}" for d in grants.dirs if d.read_only),
                                  placeholder="HOST::GUEST, one per line", description="read-only")
        self.env = w.Textarea(value="\n".join(f"{k}={v}" for k, v in grants.env),
                              placeholder="NAME=VALUE, one per line", description="environment")
        self.network = w.Checkbox(value=grants.network, description="outbound sockets")
        self.name_lookup = w.Checkbox(value=grants.ip_name_lookup, description="name lookup")
        self.timeout = w.FloatText(value=limits.timeout or 0.0, description="timeout (s)")
        self.max_memory = w.Text(value="" if limits.max_memory is None else str(limits.max_memory),
                                 placeholder="e.g. 64M", description="max memory")
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
