"""Whether the first line of a CSV file, read as its header, is a data row instead.

A file without a header row read with ``header=True`` (the default) loses its first
interaction to the header, silently unless something says so. Two readers of that line
use :func:`number_like`: the CSV reader, which refuses a "header" addressed by position
with a field that looks like a value (:func:`check_header_names`), and the command line, which
adds ``--no-header`` to the message of a column name that is not in such a header.

The opposite mistake, a file with a header read with ``header=False``, takes the header
for an interaction; :func:`warn_if_header` warns when the first line's ID fields are
common column names.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from alsrec.data.timestamps import to_seconds
from alsrec.exceptions import AlsrecWarning, DataError
from alsrec.logs import warn

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["check_header_names", "number_like", "warn_if_header"]

_NUMBER_LIKE = re.compile(r"[-+]?\.?[0-9][-+0-9.,:_eETZ ]*")  # 3, -1.5, .5, 2024-05-01T12:00Z


_USER_NAMES = frozenset(
    [
        "user",
        "userid",
        "useridx",
        "uid",
        "customer",
        "customerid",
        "visitorid",
        "memberid",
        "accountid",
        "clientid",
        "reviewerid",
    ]
)
_ITEM_NAMES = frozenset(
    [
        "item",
        "itemid",
        "itemidx",
        "iid",
        "movie",
        "movieid",
        "product",
        "productid",
        "sku",
        "articleid",
        "trackid",
        "songid",
        "videoid",
        "contentid",
        "bookid",
        "asin",
    ]
)


def _name_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def number_like(text: str) -> bool:
    """Whether a header field reads as a value (a number, a date or a time), not a name:
    what the timestamp parser reads as a time (:func:`alsrec.data.timestamps.to_seconds`:
    ``1_000``, ``2024-05-01T12:00:00.000Z``, ``20240501T1200``, ...), or text of digits,
    signs and the characters of such times (``2024-05-01T12:00Z`` also where Python's
    ``datetime`` reads no ``Z``).

    Examples
    --------
    >>> number_like("4.5"), number_like("2024-05-01T12:00:00.000Z"), number_like("rating")
    (True, True, False)
    >>> number_like("T1"), number_like("-3e5")  # a name may hold digits; a value starts with one
    (False, True)
    """
    if _NUMBER_LIKE.fullmatch(text.strip()):
        return True
    try:
        return math.isfinite(to_seconds(text))  # not 'nan' nor 'inf', which are no times
    except (TypeError, ValueError, OverflowError):
        return False


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


def warn_if_header(user_field: str, item_field: str, where: str) -> None:
    """Warn that a first line read as data (``header=False``) looks like a header: its
    user and item fields are both common column names (``user_id``, ``movieId``, ...).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_header("u1", "a", "data.csv")
    ...     warn_if_header("User ID", "movieId", "data.csv")
    >>> [str(w.message).split(", which")[0] for w in caught]
    ["data.csv: line 1 reads user 'User ID', item 'movieId'"]
    """
    if _name_key(user_field) in _USER_NAMES and _name_key(item_field) in _ITEM_NAMES:
        warn(
            f"{where}: line 1 reads user {user_field!r}, item {item_field!r}, which looks like "
            "a header, and header=False reads it as an interaction. If the file has a header "
            "row, leave header=False out and name the columns.",
            AlsrecWarning,
            stacklevel=None,  # the caller's line, however deep the reader is
        )
