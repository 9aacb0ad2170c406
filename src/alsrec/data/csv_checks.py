"""What the CSV reader decides before it reads a row (``Interactions.from_csv``).

- :func:`guess_delimiter`: the delimiter of ``delimiter=None`` (the command line's
  ``--delimiter auto``), from the first line, refusing a line that could be split two ways.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from alsrec.exceptions import DataError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["GUESSES", "guess_delimiter"]

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
    picks the delimiters that split the header into fields holding every column named,
    the most frequent of them; where none does, the most frequent of all (a column is
    then missing, reported with a hint at the delimiter). With no column named (no
    header, or columns given by position), such a line is refused: a :class:`DataError`
    asks for the delimiter.

    Examples
    --------
    >>> guess_delimiter("user_id\\titem_id", "a.tsv", {"user": "user_id", "item": "item_id"})
    '\\t'
    >>> guess_delimiter("user_id;item_id;price, EUR", "b.csv", {"user": "user_id"})
    ';'
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
    if named:
        vouched = [d for d in found if named <= set(_header_fields(line, d))]
        return max(vouched or found, key=frequency)
    shown = line if len(line) <= 120 else line[:117] + "..."  # tabs kept, as said below
    raise DataError(
        f"{path}: the delimiter cannot be guessed from line 1, {shown!r}: it holds "
        f"{' and '.join(map(repr, found))}, and either may separate the fields (an ID or a "
        "list of tags may hold the other). Pass the file's delimiter: "
        f"{' or '.join(f'delimiter={d!r}' for d in found)}."
    )
