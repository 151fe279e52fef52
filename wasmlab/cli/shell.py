"""What every ``wasmlab`` subcommand shares: the parser, exit codes, error printing, files.

A subcommand is one function ``run(args) -> int`` and one parser entry; it raises a
:class:`~wasmlab.errors.WasmlabError` for anything the user can fix and :func:`execute` turns
every outcome into an exit code and at most a few lines on stderr, never a traceback:

====  =====================================================================
0     success (``wasmlab run``: the program's own exit code)
1     an error the user can fix: ``kind: message``, then ``hint: ...``
2     a usage error: the command's usage line, ``prog: error: ...``, a hint
70    a bug in wasmlab: one line; ``WASMLAB_DEBUG=1`` shows the traceback
130   interrupted (Ctrl-C)
====  =====================================================================
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from wasmlab.errors import ArgumentError, FileError, WasmlabError

__all__ = ["OK", "FAILED", "USAGE", "BUG", "INTERRUPTED", "Parser", "UsageError", "execute", "print_error",
           "read_text", "read_bytes", "named_path", "check_output", "write_bytes", "unicode_text"]

OK, FAILED, USAGE, BUG, INTERRUPTED = 0, 1, 2, 70, 130  # 70 is sysexits' EX_SOFTWARE

DEBUG_VARIABLE = "WASMLAB_DEBUG"


class UsageError(ArgumentError):
    """The command line itself is wrong (a missing argument, a malformed flag value): exit 2."""

    kind = "usage error"

    def __init__(self, message: str, *, hint: str | None = None, usage: str | None = None, prog: str = "wasmlab"):
        super().__init__(message, hint=hint)
        self.usage = usage
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` that raises :class:`UsageError` instead of exiting,
    so that :func:`execute` (and a test calling ``main(argv)``) sees every outcome as a value.
    Subcommand parsers made from it are of the same class."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_defaults(command_parser=self)  # the innermost parser's wins: its usage for later errors

    def error(self, message: str):
        raise UsageError(message, usage=self.format_usage(), prog=self.prog)


def execute(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv``, run the chosen subcommand's ``run(args)``, and return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # a file name from the command line may hold bytes that are not UTF-8: print them escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    report, args = print_error, None
    try:
        try:
            args = parser.parse_args(argv)
            report = getattr(args, "report_error", print_error)  # a subcommand may print errors its own way
            return args.run(args)
        except SystemExit as exit:  # --help, or a subcommand that exits on purpose
            if isinstance(exit.code, str):
                _stderr(exit.code)
            return exit.code if isinstance(exit.code, int) else (OK if exit.code is None else FAILED)
    except UsageError as err:  # from the parser, or from a subcommand checking its arguments' values
        command = getattr(args, "command_parser", None)
        if err.usage is None and command is not None:  # raised after parsing: the subcommand's usage
            err.usage, err.prog = command.format_usage(), command.prog
        if err.usage:
            _stderr(err.usage.rstrip())
        _stderr(f"{err.prog}: error: {err.message}")
        _stderr(f"hint: {err.hint or f'see `{err.prog} --help`'}")
        return USAGE
    except WasmlabError as err:
        report(err)
        return FAILED
    except KeyboardInterrupt:
        _stderr("interrupted")
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (`wasmlab inspect x.wasm | head`): nothing left to say
        _silence_stdout()
        return FAILED
    except OSError as exc:  # the machine refused something wasmlab did not name (disk full, a vanished file)
        _stderr(f"error: {_describe_os_error(exc)}")
        return FAILED
    except Exception:  # noqa: BLE001 - the promise is "no traceback": report the bug in one line
        return _report_bug()


def _report_bug() -> int:
    kind, value, _ = sys.exc_info()
    if os.environ.get(DEBUG_VARIABLE):
        traceback.print_exc()
    else:
        shown = str(value).splitlines()[0][:200] if str(value) else ""
        _stderr(f"error: this is a bug in wasmlab ({kind.__name__}{': ' + shown if shown else ''}); "
                f"run again with {DEBUG_VARIABLE}=1 to see the traceback, and report it")
    return BUG


def print_error(err: WasmlabError) -> None:
    """``path:line:col: message``, the quoted line and a caret, for an error located in a file
    (as wasm-tools and compilers print them); otherwise the error's own rendering."""
    loc = err.location
    if loc is None:
        _stderr(err.render())
        return
    _stderr(f"{loc.origin}:{loc.line}:{loc.column}: {err.message}")
    quoted = loc.source_line()
    if quoted is not None:
        _stderr(f"  {quoted}\n  {loc.caret_padding(quoted)}^")
    if err.hint:
        _stderr(f"hint: {err.hint}")
    if err.detail:
        _stderr(err.detail.rstrip())


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _describe_os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"`{exc.filename}`: {reason}" if exc.filename else reason


# ---- files a command reads and writes -------------------------------------------------------

def named_path(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path; an empty one is refused (``Path("")`` would quietly mean the current folder)."""
    if not os.fspath(path):
        raise FileError(f"the {what} path is empty", hint="give the name of a file")
    return Path(path)


def _read(path: str | os.PathLike, what: str) -> bytes:
    shown = os.fspath(path)
    target = named_path(path, what)
    if target.is_dir():
        raise FileError(f"failed to read `{shown}`: it is a folder", hint=f"give the {what} inside it")
    if target.is_char_device() or target.is_block_device():  # /dev/zero would never end; a pipe does
        raise FileError(f"failed to read `{shown}`: it is a device, not a file", hint=f"give a {what}")
    try:
        return target.read_bytes()
    except FileNotFoundError:
        raise FileError(f"failed to read `{shown}`: no such file") from None
    except OSError as exc:
        raise FileError(f"failed to read `{shown}`: {exc.strerror or exc}") from None
    except ValueError:  # a NUL character or a lone surrogate, which no file name holds
        raise FileError(f"failed to read `{shown}`: not a possible file name") from None


def read_bytes(path: str | os.PathLike, what: str = "file") -> bytes:
    """The bytes of the file at ``path``, or a one-line :class:`FileError` saying why not."""
    return _read(path, what)


def read_text(path: str | os.PathLike, what: str = "text file") -> str:
    """The UTF-8 text of the file at ``path``; a binary or non-UTF-8 file is a :class:`FileError`."""
    data = _read(path, what)
    shown = os.fspath(path)
    if b"\0" in data:
        raise FileError(f"`{shown}` is a binary file, not text", hint=f"give a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FileError(f"`{shown}` is not UTF-8 text (byte {exc.start + 1}, line {line})",
                        hint="save it as UTF-8") from None


def check_output(path: str | os.PathLike) -> Path:
    """``path`` as a place a command can write a file, checked before the work that fills it."""
    out = named_path(path, "output")
    shown = os.fspath(path)
    if out.is_dir():
        raise FileError(f"cannot write `{shown}`: it is a folder", hint="give a file name, e.g. -o out.wasm")
    parent = out.parent
    for folder in [parent, *parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                raise FileError(f"cannot write `{shown}`: `{os.fspath(folder)}` is a file, not a folder")
            break
    if not parent.is_dir():
        raise FileError(f"cannot write `{shown}`: the folder `{os.fspath(parent)}` does not exist",
                        hint="create it first, or write somewhere else")
    return out


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` (checked by :func:`check_output`); a refusal is a :class:`FileError`."""
    out = check_output(path)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise FileError(f"failed to write `{os.fspath(path)}`: {exc.strerror or exc}") from None
    except ValueError:  # a NUL character or a lone surrogate, which no file name holds
        raise FileError(f"failed to write `{os.fspath(path)}`: not a possible file name") from None
    return out


def unicode_text(value: str, what: str) -> str:
    """``value`` when it is valid Unicode; a :class:`UsageError` when it holds bytes that are not
    UTF-8 (Python keeps those from the command line as lone surrogates), which a component,
    whose strings are Unicode, cannot be given."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
        raise UsageError(f"{what} `{shown}` is not valid UTF-8 text",
                         hint="a component's strings are Unicode; pass UTF-8 text") from None
    return value
