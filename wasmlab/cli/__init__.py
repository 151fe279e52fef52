"""The ``wasmlab`` command (``main``) and its ``wasmlab wac`` subcommands (``wac``)."""

from wasmlab.cli.main import command, main

__all__ = ["command", "main"]
