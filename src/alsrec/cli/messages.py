"""The library's error messages in the command line's words.

The library's messages name its Python keywords (``pass on_bad_rows='skip'``,
``Pass user=<one of the columns>``, ``delimiter must be ...``); the command line has flags
instead. :func:`cli_words` rewrites a message at the seam, once, for every command, from
one table: :data:`FLAGS` maps each keyword the readers and ``ALSParams`` accept to the flag
that sets it. A test checks that every keyword of ``Interactions.from_csv``,
``Interactions.from_sql`` and ``ALSParams`` is in the table (or knowingly has no flag), so a
new keyword cannot leak into a message untranslated.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import shlex
from types import MappingProxyType
from typing import TYPE_CHECKING

from alsrec import ALSParams

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DELIMITER_NAMES",
    "FLAGS",
    "HELP_PHRASES",
    "NO_FLAG",
    "PHRASES",
    "cli_words",
    "flag_of",
    "help_words",
]

_READER_FLAGS = {
    "user": "--user-col",
    "item": "--item-col",
    "weight": "--weight-col",
    "timestamp": "--time-col",
    "delimiter": "--delimiter",
    "encoding": "--encoding",
    "user_type": "--user-type",
    "item_type": "--item-type",
    "aggregate": "--aggregate",
    "min_user_interactions": "--min-user-interactions",
    "min_item_interactions": "--min-item-interactions",
    "on_bad_rows": "--on-bad-rows",
    "query": "--sql",
    "policy": "--policy",
}

_COMMAND_FLAGS = {
    "n_jobs": "--jobs",
    "budget": "--budget",
    "metric": "--metric",
    "splits": "--splits",
    "bootstrap": "--bootstrap",
    "k": "-k",
    "history": "--history",
    "backend": "--backend",
}
"""Keywords of ``Recommender``, ``tuning.search``, ``evaluation.evaluate`` and the query
methods that commands set from flags."""

FLAGS: Mapping[str, str] = MappingProxyType(
    {
        **{f.name: "--" + f.name.replace("_", "-") for f in dataclasses.fields(ALSParams)},
        **_READER_FLAGS,
        **_COMMAND_FLAGS,
    }
)
"""Library keyword -> the command-line flag that sets it."""

NO_FLAG = frozenset(
    {
        "path",
        "connection",
        "params",
        "header",
        "chunk_rows",
        "batch_size",
        "progress",
        "user_ids",
        "item_ids",
    }
)
"""Reader keywords without a flag of their own: set by the command line itself (the file,
the connection, ``header`` by ``--no-header``, the chunk and batch sizes, the progress bar),
so a message about them cannot be caused from the command line (``header`` is rewritten
by :data:`PHRASES`); ``user_ids``/``item_ids`` name the IDs of a matrix passed to
``Recommender.fit``, which the command line never does."""

DELIMITER_NAMES: Mapping[str, str] = MappingProxyType({"\t": "tab"})
"""How a delimiter is written on the command line where its character is awkward."""

PHRASES: tuple[tuple[str, str], ...] = (
    ("header=False", "--no-header"),
    ("weight=False", "--no-weight"),
    ("summary().dropped", "the 'rows dropped' part of the summary"),
    ("user and item must be different columns", "--user-col and --item-col must differ"),
    ("Recommender.save(path)", "alsrec train -o DIR"),
    ("rec.save(path) or 'alsrec train ... -o DIR'", "alsrec train -o DIR"),
    ("rec.save(path)", "alsrec train -o DIR"),
    (" or pass an object implementing alsrec.backends.Backend", ""),
    (" (Recommender(backend='numpy'))", ""),
    (
        "Remove or rename the repeat; dropping it would move every later row up by one. "
        "(IdMapper.from_ids() deduplicates a column of interactions, not labels of existing "
        "rows.)",
        "The model's files are damaged or were edited: retrain it (alsrec train -o DIR).",
    ),
    ("=<one of the columns>", "=<column>"),
    (
        "read it with pandas (pandas.read_parquet) or polars (polars.read_parquet) and pass "
        "the frame to Interactions.from_frame.",
        "convert it to CSV first, e.g. with pandas: "
        "pandas.read_parquet('in.parquet').to_csv('in.csv', index=False).",
    ),
    ("=<one of them>", "=<column>"),
    *(
        (
            f"{axis} IDs are {given}s but the model's are {known}s, so none would match; "
            f"convert them to {known}.",
            f"{axis} IDs were read as {given} but the model's are {known}, so none would "
            f"match; pass --{axis}-type {known} (or leave --{axis}-type out).",
        )
        for axis in ("user", "item")
        for given, known in (("str", "int"), ("int", "str"))
    ),
)
"""Whole phrases rewritten before the keyword rules."""

HELP_PHRASES: tuple[tuple[str, str], ...] = (
    (" at alsrec.Recommender.fit", ""),
    ("batch queries (recommend_many, similar_*_many)", "queries of many IDs at once"),
    (
        "see alsrec.weighting for each scheme and when to use it",
        "the guide's 'From weights to confidence' describes each scheme and when to use it",
    ),
)
"""Phrases of the ``ALSParams`` field descriptions (the flags' help) that name Python API."""

_KEYWORDS = "|".join(sorted(map(re.escape, FLAGS), key=len, reverse=True))
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_ASSIGNED = re.compile(rf"(?<![\w.-])({_KEYWORDS})=({_QUOTED}|<[^>]*>|\.\.\.|[\w.+-]+)")
_BARE = re.compile(rf"(?<![\w.-])({_KEYWORDS})=(?=\s|$)")
_FIELDS = "|".join(f.name for f in dataclasses.fields(ALSParams) if "_" in f.name)
_FIELD = re.compile(rf"(?<![\w.-])({_FIELDS})(?![\w-])")
_SUBJECT = re.compile(rf"(^|[.:;!?] |\()({_KEYWORDS})( must be | names a column)")


def flag_of(keyword: str) -> str:
    """The flag that sets a library keyword (``on_bad_rows`` -> ``--on-bad-rows``)."""
    return FLAGS[keyword]


def _value(keyword: str, text: str) -> str:
    """A keyword's value as the flag's argument, quoted for a shell where needed."""
    if text.startswith("<"):
        return text
    if text == "...":
        return f"<{keyword.replace('_', '-')}>"
    if text[:1] in "'\"":
        try:
            value = str(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            return text
        return DELIMITER_NAMES.get(value, shlex.quote(value))
    return text


def _assigned(match: re.Match[str]) -> str:
    keyword, text = match.group(1), match.group(2)
    return f"{flag_of(keyword)} {_value(keyword, text)}"


def cli_words(message: str) -> str:
    """``message`` with the library's keywords replaced by the command line's flags.

    Examples
    --------
    >>> cli_words("Fix it, or pass on_bad_rows='skip' to drop such rows.")
    'Fix it, or pass --on-bad-rows skip to drop such rows.'
    >>> cli_words("is that the delimiter (delimiter='\\\\t')?")
    'is that the delimiter (--delimiter tab)?'
    >>> cli_words("factors must be >= 1, got 0.")
    '--factors must be >= 1, got 0.'
    """
    for old, new in PHRASES:
        message = message.replace(old, new)
    message = _ASSIGNED.sub(_assigned, message)
    message = _BARE.sub(lambda m: flag_of(m.group(1)), message)
    message = _SUBJECT.sub(lambda m: f"{m.group(1)}{flag_of(m.group(2))}{m.group(3)}", message)
    return message


def help_words(text: str) -> str:
    """A hyperparameter's description as flag help: Python names replaced by flags.

    Examples
    --------
    >>> help_words("the row's scale (regularization_scale)")
    "the row's scale (--regularization-scale)"
    """
    for old, new in HELP_PHRASES:
        text = text.replace(old, new)
    return _FIELD.sub(lambda m: flag_of(m.group(1)), text)
