"""Validated ID arrays: the IDs a caller passes, checked and converted for numpy.

Every place IDs enter alsrec (an :class:`~alsrec.IdMapper`, ``fit``, queries,
``from_factors``, the legacy import) goes through :func:`as_id_array`: IDs are all
integers (``int64``) or all strings (native unicode), never booleans, floats, bytes,
``None``, empty strings or strings ending in NUL. :func:`check_one_id` and
:func:`one_id_array` guard the methods that take one ID, so that a list passed there is
refused instead of read as one malformed ID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from alsrec.containers import check_sequence, is_arrow
from alsrec.exceptions import IdTypeError
from alsrec.logs import warn

if TYPE_CHECKING:
    from collections.abc import Iterable, Sized

    from alsrec.types import ExternalId, IdArray, IdLike

__all__ = ["WIDE_IDS_BYTES", "as_id_array", "check_one_id", "one_id_array", "warn_if_wide"]


def check_one_id(value: object, what: str, many: str | None = None) -> None:
    """Refuse a collection where one ID is expected, with :class:`~alsrec.IdTypeError`.

    A list, tuple, set, 1-d array or pandas Series passed as ``user_id`` (implicit's
    ``recommend`` takes arrays of users) would otherwise be read as one malformed ID. The
    type of a single value is checked later, where it is looked up.

    Parameters
    ----------
    value
        What the caller passed.
    what
        The parameter's name in the caller's words (``"user_id"``).
    many
        The method that takes several (``"recommend_many"``), named in the message.

    Examples
    --------
    >>> check_one_id("u1", "user_id")  # one ID: nothing to say
    >>> check_one_id(["u1", "u2"], "user_id", "recommend_many")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.IdTypeError: user_id takes one ID (int or str); got a list of 2. ...
    """
    if isinstance(value, (str, bytes, int, np.generic)):
        return
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return
    elif not (hasattr(value, "__len__") and hasattr(value, "__iter__")):
        return
    size = len(cast("Sized", value))
    hint = f" For several, call {many}(...) instead." if many else ""
    raise IdTypeError(
        f"{what} takes one ID (int or str); got a {type(value).__name__} of {size}.{hint}"
    )


def one_id_array(value: object, what: str, many: str | None = None) -> IdArray:
    """``value`` as a one-element ID array (:func:`as_id_array`), after
    :func:`check_one_id`: the lookup of a method that takes one ID.

    Examples
    --------
    >>> one_id_array("u1", "user_id").tolist()
    ['u1']
    """
    check_one_id(value, what, many)
    return as_id_array([cast("ExternalId", value)], what)


def as_id_array(ids: IdLike | Iterable[ExternalId], what: str = "IDs") -> IdArray:
    """Convert IDs to a 1-d ``int64`` or unicode numpy array, validating their type.

    IDs must be all integers or all strings; instances of a subclass count as their base
    type (an ``enum.IntEnum`` member is an int, an ``enum.StrEnum`` member a str, kept as
    its text). Booleans, floats, bytes, ``None`` and
    mixtures are refused with :class:`~alsrec.IdTypeError` naming the first offending
    value and its position. Empty strings are refused too (an empty ID is never
    meaningful, and ``""`` is the padding value of batch results). Arrays in a
    non-native byte order (e.g. big-endian ``>U``) are converted to native order.

    Parameters
    ----------
    ids
        A sequence or 1-d array of IDs.
    what
        How to name the IDs in error messages (``"user IDs"``, ...).

    Examples
    --------
    >>> as_id_array(["b", "a"]).dtype.kind
    'U'
    >>> as_id_array([3, 1]).dtype
    dtype('int64')
    >>> as_id_array([1, "a"])
    Traceback (most recent call last):
    ...
    alsrec.exceptions.IdTypeError: IDs mix int and str: ...
    """
    check_sequence(ids, what)
    if is_arrow(ids):
        ids = np.asarray(ids)
    if isinstance(ids, np.ndarray):
        return _array_ids(ids, what)
    seq = ids if isinstance(ids, (list, tuple)) else list(ids)
    if len(seq) == 0:
        return np.empty(0, dtype=np.int64)
    kinds = set(map(type, seq))
    if all(issubclass(k, str) for k in kinds):
        if not kinds <= {str, np.str_}:
            # A str subclass (an enum.StrEnum member): its text, as a plain str. numpy
            # would call its __str__, which may say something else ('Color.RED').
            seq = [str.__str__(value) for value in seq]
        arr = np.asarray(seq, dtype=np.str_)
        if int(np.char.str_len(arr).sum()) != sum(map(len, seq)):
            raise IdTypeError(
                f"{what} contain a string ending in NUL ('\\x00'), which numpy cannot store; "
                "strip trailing NUL characters from the IDs."
            )
        return _check_empty_strings(arr, what)
    if all(issubclass(k, (int, np.integer)) and not issubclass(k, (bool, np.bool_)) for k in kinds):
        try:
            return np.asarray(seq, dtype=np.int64)
        except OverflowError as exc:
            pos = next(k for k, v in enumerate(seq) if not _INT64_MIN <= int(v) <= _INT64_MAX)
            raise IdTypeError(_outside_int64(what, int(seq[pos]), pos)) from exc
    return _raise_mixed(seq, what)


_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def _outside_int64(what: str, value: object, pos: int) -> str:
    """The message for an integer ID that int64 cannot hold (e.g. an unsigned 64-bit hash)."""
    return (
        f"{what} contain an integer outside the int64 range: {value!r} at position {pos}. "
        "alsrec stores integer IDs as int64; pass such IDs as str (e.g. str(id)), for "
        "training and queries alike."
    )


def _raise_mixed(seq: list[object] | tuple[object, ...], what: str) -> IdArray:
    first_kind = "str" if isinstance(seq[0], str) else "int"
    for pos, value in enumerate(seq):
        is_str = isinstance(value, str)
        is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not (is_str or is_int):
            raise IdTypeError(
                f"{what} must be int or str; got {value!r} ({type(value).__name__}) at position "
                f"{pos}. Convert the IDs to str (or to int) before passing them."
            )
        if (first_kind == "str") != is_str:
            raise IdTypeError(
                f"{what} mix int and str: position 0 is {first_kind} but position {pos} is "
                f"{value!r}. Use one type per axis, e.g. convert all IDs to str."
            )
    raise IdTypeError(f"{what} could not be converted to int or str.")  # pragma: no cover


def _array_ids(arr: npt.NDArray[np.generic], what: str) -> IdArray:
    if arr.ndim != 1:
        raise IdTypeError(f"{what} must be one-dimensional, got an array of shape {arr.shape}.")
    kind = arr.dtype.kind
    if kind == "i":
        return arr.astype(np.int64, copy=False)
    if kind == "u":
        if arr.size and int(arr.max()) > _INT64_MAX:
            pos = int(np.argmax(arr.astype(np.uint64) > np.uint64(_INT64_MAX)))
            raise IdTypeError(_outside_int64(what, arr[pos].item(), pos))
        return arr.astype(np.int64)
    if kind == "U":
        if not arr.dtype.isnative:  # e.g. big-endian '>U': hash and compare in native order
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return _check_empty_strings(cast("IdArray", arr), what)
    if kind == "O" or kind == "T":
        return as_id_array(arr.tolist(), what)
    raise IdTypeError(
        f"{what} must be int or str, got a numpy array of dtype {arr.dtype}. "
        + (
            "Float IDs are ambiguous (1.0 vs '1.0'); convert them to int or str."
            if kind == "f"
            else "Convert them to int or str."
        )
    )


def _check_empty_strings(arr: IdArray, what: str) -> IdArray:
    if arr.size:
        empty = np.flatnonzero(arr == "")
        if empty.size:
            raise IdTypeError(
                f"{what} contain an empty string at position {int(empty[0])}; "
                "every ID must be non-empty."
            )
    return arr


WIDE_IDS_BYTES = 64 * 2**20
"""Str IDs taking at least this many bytes are checked by :func:`warn_if_wide`."""


def warn_if_wide(ids: IdArray, what: str = "IDs") -> None:
    """Warn when a few long str IDs make the whole array much larger than its text.

    numpy stores str IDs at a fixed width, that of the longest one (4 bytes per
    character), so one 1,024-character ID among a million short ones takes 4 GiB. Only
    arrays of :data:`WIDE_IDS_BYTES` or more are checked, and only an array more than 8
    times its text is reported, with the longest ID's position.

    Examples
    --------
    >>> import numpy as np
    >>> warn_if_wide(np.array(["a", "b" * 50]))  # small: not checked
    """
    if ids.dtype.kind != "U" or ids.nbytes < WIDE_IDS_BYTES:
        return
    lengths = np.char.str_len(cast("npt.NDArray[np.str_]", ids))
    text = max(int(lengths.sum()) * 4, 1)
    if ids.nbytes <= 8 * text:
        return
    longest = int(np.argmax(lengths))
    warn(
        f"{what}: the longest ID ({int(lengths[longest]):,} characters, at index {longest}) "
        f"makes each of the {ids.size:,} IDs take {ids.dtype.itemsize:,} bytes, "
        f"{ids.nbytes / 2**20:,.0f} MiB for {text / 2**20:,.1f} MiB of text (numpy stores "
        "str IDs at the width of the longest). Shorten or hash the long IDs to save that "
        "memory, and the size of a saved model.",
        stacklevel=None,
    )
