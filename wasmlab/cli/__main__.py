"""``python -m wasmlab.cli``: the ``wasmlab`` command."""

from wasmlab.cli.main import command

command()
