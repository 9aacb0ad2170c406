"""Whether the first line of a CSV file, read as its header, is a data row instead.

A file without a header row read with ``header=True`` (the default) loses its first
interaction to the header, silently unless something says so. Two readers of that line
use :func:`number_like`: the CSV reader, which refuses a "header" addressed by position
with a field that looks like a value (:func:`check_header_names`), and the command line, which
adds ``--no-header`` to the message of a column name that is not in such a header.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from alsrec.exceptions import DataError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["check_header_names", "number_like"]

_NUMBER_LIKE = re.compile(r"[-+]?\.?[0-9][-+0-9.:eET ]*")  # 3, -1.5, .5, 2024-05-01T12:00


def number_like(text: str) -> bool:
    """Whether a header field reads as a value (a number, a date or a time), not a name.

    Examples
    --------
    >>> number_like("4.5"), number_like("2024-05-01T12:00"), number_like("rating")
    (True, True, False)
    >>> number_like("T1"), number_like("-3e5")  # a name may hold digits; a value starts with one
    (False, True)
    """
    return bool(_NUMBER_LIKE.fullmatch(text.strip()))


def check_header_names(names: Sequence[str], describe: Callable[[], tuple[str, str]]) -> None:
    """Refuse a header that looks like a data row: one of its fields reads as a value. Used
    when the columns are given by position, so that no name vouches for the header.
    ``describe()`` gives the text that quotes the line (as for a missing column).

    Examples
    --------
    >>> quote = lambda: ("data.csv: the header reads 'u1,a,5'", "")
    >>> check_header_names(["u1", "a", "5"], quote)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: data.csv: the header reads 'u1,a,5', but its field '5' ...
    >>> check_header_names(["user", "item", "rating"], quote)
    """
    field = next((name for name in names if number_like(name)), None)
    if field is not None:
        text, _ = describe()
        raise DataError(
            f"{text}, but its field {field!r} looks like a value, not a column name: the "
            "first line is probably an interaction. If the file has no header row, pass "
            "header=False (the columns are then read by position, as given); if it does, "
            "name the columns instead of giving positions."
        )
