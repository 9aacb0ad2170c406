"""Pieces every command's parser shares: the parser class, option groups, value types.

The hyperparameter flags are derived from :class:`~alsrec.ALSParams`: one flag per field
(``--cg-steps`` for ``cg_steps``), its type, choices and default from the field, its help
from the field's description in the ``ALSParams`` docstring. There is no second list.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from alsrec import ALSParams, ConfigError, DataError
from alsrec.backends import names as backend_names
from alsrec.cli.messages import help_words
from alsrec.data.columns import COMMON_COLUMNS
from alsrec.data.csv_checks import is_text_encoding

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "DELIMITERS",
    "EXIT_DATA",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_UNKNOWN_ID",
    "EXIT_USAGE",
    "SPLIT_DEFAULTS",
    "CliParser",
    "Parents",
    "Streams",
    "add_formats",
    "add_hyperparameters",
    "add_split_options",
    "delimiter",
    "encoding",
    "fraction",
    "hyperparameters",
    "nonnegative_int",
    "params_from",
    "positive_int",
    "read_params_file",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_UNKNOWN_ID = 4

FORMATTER = argparse.RawDescriptionHelpFormatter


@dataclass(frozen=True)
class Streams:
    """Where a command writes: results on ``out``, notes and bars on ``err``."""

    out: TextIO
    err: TextIO

    def note(self, message: str) -> None:
        """Print ``alsrec: note: message`` on ``err``."""
        print(f"alsrec: note: {message}", file=self.err)


class CliParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit code 2.

    With :attr:`intermixed` set, options may come between positionals of a variable
    count (``recommend MODEL -n 5 U1 U2``): argparse alone ends a ``nargs="*"``
    positional at the first option and calls what follows unrecognized.
    """

    intermixed = False
    """Parse with :meth:`~argparse.ArgumentParser.parse_known_intermixed_args`."""
    _mixing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: argparse would read "--users U1" as "--users-file U1".
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, or intermixed when :attr:`intermixed` is set."""
        if self.intermixed and not self._mixing:
            self._mixing = True  # the intermixed parse calls this method itself, twice
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._mixing = False
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        """Exit with code 2 and one line naming the problem."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def nonnegative_int(text: str) -> int:
    """An argparse type: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


DELIMITERS: Mapping[str, str | None] = {
    "auto": None,
    "tab": "\t",
    "\\t": "\t",
    "\t": "\t",
    ",": ",",
    ";": ";",
    "|": "|",
}
"""What ``--delimiter`` accepts, and the character each means (``None``: guess)."""


def delimiter(text: str) -> str | None:
    """An argparse type: a CSV delimiter by name or character (``None`` for ``auto``)."""
    try:
        return DELIMITERS[text.lower() if text.isalpha() else text]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"expected auto, tab (or '\\t'), ',', ';' or '|', got {text!r}"
        ) from None


def encoding(text: str) -> str:
    """An argparse type: a text encoding Python knows (``utf-8``, ``latin-1``, ...)."""
    if not is_text_encoding(text):  # also refuses 'rot13', 'base64'
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a known text encoding; give one such as utf-8, latin-1, "
            "cp1252 or utf-16"
        )
    return text


class _WordOrNumber:
    """An argparse type: one of some words (e.g. ``auto``) or a number of ``kind``."""

    def __init__(self, words: tuple[str, ...], kind: type) -> None:
        self.words = words
        self.kind = kind
        self.__name__ = " or ".join([*words, "number"])  # argparse names the type by it

    def __call__(self, text: str) -> object:
        if text in self.words:
            return text
        try:
            return self.kind(text)
        except ValueError:
            expected = " or ".join(repr(w) for w in self.words)
            raise argparse.ArgumentTypeError(
                f"expected {expected} or a number, got {text!r}"
            ) from None


def _flag_type(
    hint: object, default: object
) -> tuple[tuple[str, ...] | None, Callable[[str], Any]]:
    """``(choices, type)`` of the flag of a field with type ``hint``.

    ``Literal[...]`` gives choices; ``float | Literal["auto"]`` gives a type that takes
    the words or a number; anything else is the type of the default (``int`` for None).
    """
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint), str
    members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, UnionType) else ()
    words = tuple(
        w for m in members if typing.get_origin(m) is typing.Literal for w in typing.get_args(m)
    )
    numbers = [m for m in members if m in (int, float)]
    if words and numbers:
        return None, _WordOrNumber(words, float if float in numbers else int)
    return None, type(default) if default is not None else int


def add_formats(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    """The ``--format`` option: ``table`` first, then machine formats."""
    parser.add_argument(
        "--format",
        choices=tuple(choices),
        default="table",
        help=f"output: 'table' for people, {' or '.join(repr(c) for c in choices[1:])} for "
        "programs (default: table)",
    )


SPLIT_DEFAULTS: Mapping[str, object] = {"test_fraction": 0.2, "leave_k": 1, "time_mode": "global"}
"""The split settings' defaults. The flags default to None, so that a setting the chosen
method does not use is refused only when it was given (see ``split_interactions``)."""


def add_split_options(group: argparse._ArgumentGroup, method_flag: str) -> None:
    """How to split the data: ``method_flag`` (holdout, leave-k-out, time) and its settings.

    The settings default to None (given: a value); :data:`SPLIT_DEFAULTS` holds the values
    used when they are not given.
    """
    group.add_argument(
        method_flag,
        dest=method_flag.lstrip("-"),
        choices=("holdout", "leave-k-out", "time"),
        default="holdout",
        help="random per-user holdout, leave-k-out per user, or by time (default: holdout)",
    )
    group.add_argument(
        "--test-fraction",
        type=fraction,
        default=None,
        help="share held out per user (holdout) or of all pairs (time); default: 0.2",
    )
    group.add_argument(
        "--leave-k",
        type=positive_int,
        default=None,
        help="items per user for leave-k-out (default: 1)",
    )
    group.add_argument(
        "--time-col", help="timestamp column (numbers or ISO dates) for a time split"
    )
    group.add_argument(
        "--time-mode",
        choices=("global", "per-user"),
        default=None,
        help="time split: one cutoff for everyone, or each user's latest pairs (default: global)",
    )


# -- hyperparameters, from ALSParams ------------------------------------------------------------

CLI_DEFAULTS: Mapping[str, object] = {"random_state": 0}
"""Where the command line's default differs from ALSParams' (reproducible runs by default)."""


def _field_help() -> dict[str, str]:
    """The first sentence of each field's description in the ALSParams docstring."""
    doc = ALSParams.__doc__ or ""
    out: dict[str, str] = {}
    for match in re.finditer(r"^    (\w+) : [^\n]*\n((?:        [^\n]*\n)+)", doc, re.M):
        text = " ".join(match.group(2).split())
        text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text).replace("``", "")
        first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0].rstrip(".")
        if first[1:2].islower():
            first = first[:1].lower() + first[1:]
        out[match.group(1)] = help_words(first).replace("%", "%%")
    return out


def hyperparameters() -> tuple[dataclasses.Field[Any], ...]:
    """The hyperparameters the command line exposes: every field of ALSParams."""
    return dataclasses.fields(ALSParams)


def add_hyperparameters(
    group: argparse._ArgumentGroup | argparse.ArgumentParser,
    *,
    only: Sequence[str] | None = None,
    defaults: Mapping[str, object] | None = None,
) -> None:
    """Add one ``--name`` flag per ALSParams field (or the fields in ``only``)."""
    hints = typing.get_type_hints(ALSParams)
    helps = _field_help()
    chosen = {**CLI_DEFAULTS, **(defaults or {})}
    for field in hyperparameters():
        if only is not None and field.name not in only:
            continue
        default = chosen.get(field.name, field.default)
        flag = "--" + field.name.replace("_", "-")
        choices, kind = _flag_type(hints[field.name], default)
        text = f"{helps.get(field.name, field.name)} (default: {default})"
        if choices:
            group.add_argument(flag, choices=choices, default=default, help=text, action=_Given)
        else:
            group.add_argument(flag, type=kind, default=default, help=text, action=_Given)


class _Given(argparse.Action):
    """Store the value and remember that the flag was given (it overrides ``--params``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        given = set(getattr(namespace, "given_params", ()))
        namespace.given_params = frozenset(given | {self.dest})


def read_params_file(path: str) -> ALSParams:
    """ALSParams from a JSON file of ``ALSParams.to_dict()`` (as ``tune --params-out`` writes)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DataError(f"Cannot read the --params file {path!r}: {why}.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"The --params file {path!r} is not JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise DataError(
            f"The --params file {path!r} must hold one JSON object of hyperparameters, "
            f"as 'alsrec tune --params-out' writes; it holds a {type(data).__name__}."
        )
    try:
        return ALSParams.from_dict(data)
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"The --params file {path!r} is not valid: {exc}") from exc


def params_from(args: argparse.Namespace) -> ALSParams:
    """The ALSParams of the flags: ``--params FILE`` if given, then the flags given explicitly.

    Without ``--params``, every hyperparameter flag counts (with its default).
    """
    names = [f.name for f in hyperparameters() if hasattr(args, f.name)]
    path = getattr(args, "params", None)
    if path is None:
        return ALSParams(**{name: getattr(args, name) for name in names})
    values = read_params_file(path).to_dict()
    given: frozenset[str] = getattr(args, "given_params", frozenset())
    values.update({name: getattr(args, name) for name in names if name in given})
    return ALSParams(**values)


# -- option groups shared by several commands --------------------------------------------------


@dataclass(frozen=True)
class Parents:
    """Parent parsers a command can inherit options from."""

    common: CliParser
    source: CliParser
    model: CliParser

    @classmethod
    def build(cls) -> Parents:
        """The three parent parsers: policy and debug, data source, model."""
        return cls(_common_options(), _source_options(), _model_options())


def _common_options() -> CliParser:
    common = CliParser(add_help=False)
    common.add_argument(
        "--policy",
        choices=("safe", "strict"),
        default="safe",
        help="unknown IDs: 'safe' answers anyway (popularity fallback, empty result), "
        "'strict' fails with exit code 4 (default: safe)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    return common


def _add_column_options(group: argparse._ArgumentGroup) -> None:
    """The flags that name the user, item and weight columns (found by name without them)."""
    for role in ("user", "item"):
        others = ", ".join(COMMON_COLUMNS[role][1:])
        group.add_argument(
            f"--{role}-col",
            help=f"{role} ID column (default: {role}_id, or else the one column named {others})",
        )
    group.add_argument(
        "--weight-col",
        default=None,
        help="interaction weight column (default: a column named weight, if any; else 1 per row)",
    )
    group.add_argument(
        "--no-weight",
        action="store_true",
        help="weigh every row 1, even if a column is named weight",
    )


def _source_options() -> CliParser:
    source = CliParser(add_help=False)
    group = source.add_argument_group("data")
    group.add_argument(
        "data", nargs="?", metavar="DATA", help="CSV file of interactions ('-' for standard input)"
    )
    group.add_argument("--sql", metavar="QUERY", help="read the result of a SQL query instead")
    group.add_argument(
        "--db",
        metavar="DATABASE",
        help="SQLite file path, sqlite:///path or postgresql://user@host/dbname URL (with --sql)",
    )
    _add_column_options(group)
    group.add_argument(
        "--delimiter",
        type=delimiter,
        default="auto",
        metavar="{auto,tab,',',';','|'}",
        help="CSV field delimiter: 'auto' guesses it from the first line among , tab ; | "
        "(one that appears alone, or that a header's names settle; else it asks); also "
        "'\\t' for tab (default: auto)",
    )
    group.add_argument(
        "--no-header",
        action="store_true",
        help="the CSV has no header row; the --*-col options are then 0-based column numbers",
    )
    group.add_argument(
        "--encoding",
        type=encoding,
        default="utf-8-sig",
        help="CSV text encoding (default: UTF-8, with or without a byte-order mark)",
    )
    for axis in ("user", "item"):
        group.add_argument(
            f"--{axis}-type",
            choices=("auto", "int", "str"),
            default="auto",
            help=f"read {axis} IDs as integers or text; 'auto': integers when the first is "
            "one written plainly (default: auto)",
        )
    group.add_argument(
        "--on-bad-rows",
        choices=("raise", "skip"),
        default="raise",
        help="a bad row (empty ID, bad weight, blank or short line): stop with an error "
        "naming it, or skip it and count it in the summary (default: raise)",
    )
    group.add_argument(
        "--aggregate",
        choices=("sum", "max", "last", "count"),
        default="sum",
        help="how duplicate (user, item) rows merge: add weights, keep the largest, keep the "
        "latest, or count rows (default: sum)",
    )
    group.add_argument(
        "--min-user-interactions",
        type=positive_int,
        default=1,
        metavar="N",
        help="keep users with at least N distinct items (applied with the item filter "
        "until both hold; default: 1)",
    )
    group.add_argument(
        "--min-item-interactions",
        type=positive_int,
        default=1,
        metavar="N",
        help="keep items with at least N distinct users (default: 1)",
    )
    return source


def _model_options() -> CliParser:
    model = CliParser(add_help=False)
    group = model.add_argument_group("model")
    group.add_argument(
        "--params",
        metavar="FILE",
        help="hyperparameters from a JSON file (as 'alsrec tune --params-out' writes); "
        "flags given explicitly override its values",
    )
    add_hyperparameters(group)
    group.add_argument(
        "--backend",
        default="numpy",
        help=f"training backend: {', '.join(backend_names())} (default: numpy)",
    )
    group.add_argument(
        "--progress",
        action="store_true",
        help="draw a progress bar on stderr with the training loss after each sweep",
    )
    return model
