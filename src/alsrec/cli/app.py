"""The ``alsrec`` parser, built from the command modules, and :func:`main`."""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading
import traceback
import warnings
from typing import TYPE_CHECKING, TextIO

import alsrec
import alsrec.cli.demo as demo
import alsrec.cli.evaluate as evaluate
import alsrec.cli.explain as explain
import alsrec.cli.inspect as inspect
import alsrec.cli.recommend as recommend
import alsrec.cli.similar as similar
import alsrec.cli.split as split
import alsrec.cli.train as train
import alsrec.cli.tune as tune
from alsrec import (
    AlsrecError,
    AlsrecWarning,
    ArtifactError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    MappingMismatchError,
    NotFittedError,
    UnknownIdError,
)
from alsrec.cli.messages import cli_words
from alsrec.cli.options import (
    EXIT_DATA,
    EXIT_ERROR,
    EXIT_UNKNOWN_ID,
    EXIT_USAGE,
    FORMATTER,
    CliParser,
    Parents,
    Streams,
)
from alsrec.cli.output import silence_stdout

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Sequence
    from types import FrameType

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = (train, recommend, similar, inspect, evaluate, split, tune, explain, demo)
"""The command modules, in help order; each has ``add_parser(subparsers, parents)``."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``alsrec`` command."""
    parser = CliParser(
        prog="alsrec",
        description="Implicit-feedback ALS recommendations by your own IDs.",
        epilog="Exit codes: 0 ok, 2 usage error, 3 data or artifact error, 4 unknown ID "
        "under --policy strict, 1 other error.\n\nExample: alsrec demo",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"alsrec {alsrec.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    parents = Parents.build()
    for command in COMMANDS:
        command.add_parser(sub, parents)
    return parser


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, UnknownIdError):
        return EXIT_UNKNOWN_ID
    if isinstance(exc, (ConfigError, BackendUnavailableError)):
        return EXIT_USAGE
    if isinstance(exc, (DataError, ArtifactError, MappingMismatchError, NotFittedError, OSError)):
        return EXIT_DATA
    return EXIT_ERROR


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot access {str(exc.filename)!r}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())  # one line
    if isinstance(exc, AlsrecError):
        text = cli_words(text)  # the library's keywords as this command's flags
    return text or type(exc).__name__


EXIT_TERMINATED = 128 + signal.SIGTERM
"""The exit code after ``kill PID`` (SIGTERM), once the command has cleaned up."""


class _Terminated(BaseException):
    """SIGTERM arrived: unwinds the stack, so that ``finally`` blocks (a save's cleanup) run."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Terminated` while a command runs (main thread only, and
    only where nobody else handles SIGTERM)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _warnings_as_notes(streams: Streams) -> Iterator[None]:
    """Show alsrec's warnings as ``alsrec: note:`` lines, as the CLI's own notes are, not
    with the library's file and source line, and in flags, as errors are; other warnings
    as Python shows them."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, AlsrecWarning):
                streams.note(cli_words(str(message)))
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit code.

    Usage errors raise ``SystemExit(2)`` from argument parsing, as ``--help`` and
    ``--version`` raise ``SystemExit(0)``.

    Examples
    --------
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    # A stream closed by the shell ('>&-', '2>&-') is None in Python; errors then go nowhere.
    error_stream = err if err is not None else sys.stderr or io.StringIO()
    output_stream = out if out is not None else sys.stdout
    if output_stream is None:
        print(
            "alsrec: error: standard output is closed; redirect it instead (e.g. > out.txt "
            "or > /dev/null).",
            file=error_stream,
        )
        return EXIT_DATA
    streams = Streams(output_stream, error_stream)
    handler: Callable[[argparse.Namespace, Streams], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(streams.out)
        return EXIT_USAGE
    try:
        with _sigterm_unwinds(), _warnings_as_notes(streams):
            code = handler(args, streams)
            streams.out.flush()  # here, so that a closed pipe is handled below
            return code
    except KeyboardInterrupt:
        print("alsrec: interrupted", file=streams.err)
        return 130
    except _Terminated:
        print("alsrec: terminated", file=streams.err)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader went away (e.g. '| head'): stop quietly. (Commands that write files
        # report through output.Report, which drops the report but not the work.)
        silence_stdout(streams.out)
        return EXIT_ERROR
    except (AlsrecError, OSError) as exc:
        if args.debug:
            traceback.print_exc(file=streams.err)
        print(f"alsrec: error: {_message(exc)}", file=streams.err)
        return _exit_code(exc)
    except Exception as exc:
        if args.debug:
            traceback.print_exc(file=streams.err)
        print(
            f"alsrec: internal error: {type(exc).__name__}: {_message(exc)} "
            "(rerun with --debug for the traceback, and please report it)",
            file=streams.err,
        )
        return EXIT_ERROR
