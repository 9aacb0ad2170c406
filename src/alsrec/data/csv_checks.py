"""What the CSV reader decides before it reads a row (``Interactions.from_csv``).

- :func:`check_arguments`: the path, delimiter, encoding and progress arguments, each
  refused with a :class:`ConfigError` naming the keyword (not a ``TypeError`` from deep
  inside); an explicit UTF-8 encoding drops a leading byte-order mark, as the default does.
- :func:`check_encoding`: the first bytes of the text against the encoding given: a
  UTF-16 or UTF-32 byte-order mark, or the NUL bytes of such text without one, read as
  another encoding is refused, naming the encoding to pass.
- :func:`guess_delimiter`: the delimiter of ``delimiter=None`` (the command line's
  ``--delimiter auto``), from the first line, refusing a line that could be split two ways.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from typing import TYPE_CHECKING

from alsrec.data.columns import candidates
from alsrec.exceptions import ConfigError, DataError
from alsrec.progress import check_progress

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["GUESSES", "check_arguments", "check_encoding", "encoding_name", "guess_delimiter"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Byte-order marks -> the encoding that reads them (and the byte order they say)."""

_NUL_PLACES = {
    (False, True, False, True): ("utf-16-le", "every other byte is"),
    (True, False, True, False): ("utf-16-be", "every other byte is"),
    (False, True, True, True): ("utf-32-le", "three of every four bytes are"),
    (True, True, True, False): ("utf-32-be", "three of every four bytes are"),
}
"""Where the NUL bytes of mostly-ASCII UTF-16/32 text fall (which of every 4 bytes), ->
the encoding, and how to say it."""


def _check_path(path: object) -> str:
    """``path`` as the text to open: a ``str``, ``bytes`` or ``os.PathLike`` without NUL."""
    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        if hasattr(path, "read"):
            raise ConfigError(
                f"path must be a file's path (a str or os.PathLike such as pathlib.Path), got "
                f"a file object ({type(path).__name__}): from_csv opens and streams the "
                "file itself, so pass its path (a file object's .name, where it has one). Data "
                "held in memory can be read with pandas.read_csv and passed to "
                "Interactions.from_frame."
            )
        raise ConfigError(
            f"path must be a file's path (a str or os.PathLike such as pathlib.Path), got "
            f"{path!r} ({type(path).__name__})."
        )
    text = os.fsdecode(path)
    if "\x00" in text:
        raise ConfigError(
            f"path {text!r} holds a NUL character ('\\x00'), which no file name can hold: check "
            "how the path was built."
        )
    return text


def is_text_encoding(encoding: object) -> bool:
    """Whether Python reads text with ``encoding`` (not ``'hex'``, ``'rot13'`` or
    ``'base64'``, which are bytes codecs, nor a name it does not know).

    Examples
    --------
    >>> is_text_encoding("latin-1"), is_text_encoding("rot13"), is_text_encoding(None)
    (True, False, False)
    """
    if not isinstance(encoding, str):
        return False
    try:
        io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    except LookupError:
        return False
    return True


def check_arguments(
    path: object, delimiter: object, encoding: object, progress: object
) -> tuple[str, str]:
    """The path to open and the encoding to read it with, or a :class:`ConfigError` that
    names the keyword of a value that cannot be one.

    Examples
    --------
    >>> check_arguments("plays.csv", None, "UTF8", None)
    ('plays.csv', 'utf-8-sig')
    >>> check_arguments("plays.csv", ",", "hex", None)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: encoding 'hex' is not a known text encoding; use e.g. ...
    """
    where = _check_path(path)
    if delimiter is not None and not isinstance(delimiter, str):
        raise ConfigError(
            f"delimiter must be one character (a str) other than a quote, a letter, a digit or "
            f"a line break, or None to guess it; got {delimiter!r}."
        )
    if not is_text_encoding(encoding):
        raise ConfigError(
            f"encoding {encoding!r} is not a known text encoding; use e.g. 'utf-8', "
            "'latin-1' or 'cp1252'."
        )
    check_progress(progress)
    text = str(encoding)
    # a byte-order mark is no part of the first field, with an explicit UTF-8 as by default
    return where, "utf-8-sig" if codecs.lookup(text).name == "utf-8" else text


def encoding_name(encoding: str) -> str:
    """How to show ``encoding`` in a message (the default ``utf-8-sig`` is just UTF-8)."""
    return "UTF-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding


def _nul_places(head: bytes) -> tuple[str, str] | None:
    """The UTF-16/32 encoding whose NUL bytes ``head`` has (``_NUL_PLACES``): at least a
    quarter of the bytes at those places, at most 2% elsewhere; ``None`` otherwise."""
    n = len(head) // 4
    if n < 4:
        return None
    shares = [head[k : 4 * n : 4].count(0) / n for k in range(4)]
    if any(0.02 < share < 0.25 for share in shares):
        return None
    return _NUL_PLACES.get(
        (shares[0] >= 0.25, shares[1] >= 0.25, shares[2] >= 0.25, shares[3] >= 0.25)
    )


def check_encoding(head: bytes, path: str, encoding: str) -> None:
    """Refuse text whose first bytes ``head`` say it is UTF-16 or UTF-32 when ``encoding``
    is another: a byte-order mark (UTF-32's told apart from UTF-16's, which it starts
    with), or, without one, NUL bytes in the places UTF-16/32 text of ASCII characters
    has them (every other byte). The :class:`DataError` names the encoding to pass.

    Examples
    --------
    >>> check_encoding("user_id,item_id\\n".encode("utf-8"), "a.csv", "utf-8-sig")
    >>> check_encoding("user_id,item_id\\n".encode("utf-32"), "b.csv", "utf-16")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: b.csv starts with a UTF-32 byte-order mark: ...encoding='utf-32'.
    >>> check_encoding("user_id,item_id\\n".encode("utf-16-le"), "c.csv", "utf-8-sig")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: c.csv: every other byte is NUL at its start, ...='utf-16-le'.
    """
    name = codecs.lookup(encoding).name
    for bom, wide in _BOMS:
        if head.startswith(bom):
            if name.startswith(wide):
                return
            excel = " (as Excel's 'Unicode Text' files do)" if wide == "utf-16" else ""
            raise DataError(
                f"{path} starts with a {wide.upper()} byte-order mark{excel}: it is "
                f"{wide.upper()} text, not {encoding_name(encoding)}. Pass encoding={wide!r}."
            )
    found = None if name.startswith(("utf-16", "utf-32")) else _nul_places(head)
    if found is not None:
        wide, places = found
        raise DataError(
            f"{path}: {places} NUL at its start, as in {wide[:6].upper()} text without "
            f"a byte-order mark ({'little' if wide.endswith('le') else 'big'}-endian), not "
            f"{encoding_name(encoding)}. Pass encoding={wide!r}."
        )


GUESSES = (",", "\t", ";", "|")
"""The delimiters ``delimiter=None`` guesses among, the first preferred on a tie."""


def _header_fields(line: str, delimiter: str) -> list[str]:
    """``line`` split at ``delimiter`` as the csv module splits it (``[]`` if malformed)."""
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return []


def guess_delimiter(line: str, path: str, specs: Mapping[str, object] | None) -> str:
    """The delimiter of a file whose first line is ``line``: the one of :data:`GUESSES`
    that the line holds (``","`` if none).

    A line that holds two or more of them could be split either way (``u1,rock|indie``
    is two fields split at ``,`` and three at ``|``). A header vouches for one: ``specs``
    (the columns asked for, by role, when the first line is a header; else ``None``)
    picks the delimiters that split the header into fields holding every column named
    and one column named like each role not named (:mod:`alsrec.data.columns`), the most
    frequent of them; where none does, the most frequent of all (a column is
    then missing, reported with a hint at the delimiter). With no column named (no
    header, or columns given by position), such a line is refused: a :class:`DataError`
    asks for the delimiter.

    Examples
    --------
    >>> guess_delimiter("user_id\\titem_id", "a.tsv", {"user": "user_id", "item": "item_id"})
    '\\t'
    >>> guess_delimiter("user_id;item_id;price, EUR", "b.csv", {"user": "user_id"})
    ';'
    >>> guess_delimiter("user|item_id|tags,genres", "d.csv", {"user": None, "item": None})
    '|'
    >>> guess_delimiter("u1,rock|indie|live", "c.csv", None)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: c.csv: the delimiter cannot be guessed from line 1, ...
    """
    found = [d for d in GUESSES if d in line]
    if len(found) < 2:
        return found[0] if found else ","

    def frequency(delimiter: str) -> tuple[int, int]:
        return line.count(delimiter), -GUESSES.index(delimiter)

    named = {spec for spec in (specs or {}).values() if isinstance(spec, str)}
    found_by_name = [r for r in ("user", "item") if specs is not None and specs.get(r) is None]

    def vouches(delimiter: str) -> bool:
        fields = _header_fields(line, delimiter)
        return named <= set(fields) and all(len(candidates(fields, r)) == 1 for r in found_by_name)

    if named or found_by_name:
        vouched = [d for d in found if vouches(d)]
        return max(vouched or found, key=frequency)
    shown = line if len(line) <= 120 else line[:117] + "..."  # tabs kept, as said below
    raise DataError(
        f"{path}: the delimiter cannot be guessed from line 1, {shown!r}: it holds "
        f"{' and '.join(map(repr, found))}, and either may separate the fields (an ID or a "
        "list of tags may hold the other). Pass the file's delimiter: "
        f"{' or '.join(f'delimiter={d!r}' for d in found)}."
    )
