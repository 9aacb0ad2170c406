"""Held-out splits: random holdout, leave-k-out and time splits (see :mod:`alsrec.evaluation`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from alsrec.data.interactions import Interactions
from alsrec.data.timestamps import parse_timestamps, to_seconds
from alsrec.exceptions import ConfigError, DataError
from alsrec.mapping import IdMapper, as_id_array

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.types import ExternalId, IdArray, IdLike

__all__ = ["holdout_split", "leave_k_out_split", "time_split"]

FloatArray64 = npt.NDArray[np.float64]


def _check_fraction(test_fraction: float) -> float:
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)):
        raise ConfigError(f"test_fraction must be a number, got {test_fraction!r}.")
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}.")
    return float(test_fraction)


def _rank_split(
    data: Interactions, n_test: npt.NDArray[np.int64], random_state: int, what: str
) -> tuple[Interactions, Interactions]:
    """Send ``n_test[u]`` random distinct items of each user ``u`` to the test set."""
    matrix = data.matrix.tocsr()
    lengths = np.diff(matrix.indptr).astype(np.int64)
    rng = np.random.default_rng(random_state)
    keys = rng.random(matrix.nnz)
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), lengths)
    # Rank each user's entries by a random key; the lowest ranks go to the test set.
    order = np.lexsort((keys, rows))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1].astype(np.int64), lengths)
    is_test = rank < n_test[rows]
    if not is_test.any():
        raise DataError(f"No user has {what}, so nothing can be held out.")
    cols = matrix.indices.astype(np.int64)
    weights = matrix.data.astype(np.float32)
    times = data.timestamps

    def part(mask: npt.NDArray[np.bool_]) -> Interactions:
        return Interactions.from_arrays(
            data.users.ids[rows[mask]],
            data.items.ids[cols[mask]],
            weights[mask],
            timestamps=None if times is None else times[mask],
        )

    return part(~is_test), part(is_test)


def holdout_split(
    data: Interactions, test_fraction: float = 0.2, *, random_state: int = 0
) -> tuple[Interactions, Interactions]:
    """Hold out a random fraction of each user's distinct items.

    Every user with at least two items keeps at least one in training and gives at least
    one to the test set (``round(test_fraction * n_items)``, clipped to that range); users
    with a single item stay in training only. Seeded and reproducible.

    Parameters
    ----------
    data : Interactions
        The interactions to split.
    test_fraction : float, default 0.2
        Fraction of each user's distinct items to hold out, strictly between 0 and 1.
    random_state : int, default 0
        Seed; equal seeds give equal splits.

    Returns
    -------
    (train, test) : tuple of Interactions
        Both keep the timestamps of ``data``, if it has any.

    Raises
    ------
    ConfigError
        ``test_fraction`` outside ``(0, 1)``.
    DataError
        No user has two or more items.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 1, 1, 2], [1, 2, 3, 4, 1])
    >>> train, test = holdout_split(data, 0.25, random_state=0)
    >>> train.nnz, test.nnz
    (4, 1)
    """
    fraction = _check_fraction(test_fraction)
    lengths = np.diff(data.matrix.indptr).astype(np.int64)
    n_test = np.where(lengths >= 2, np.clip(np.rint(lengths * fraction), 1, lengths - 1), 0).astype(
        np.int64
    )
    return _rank_split(data, n_test, random_state, "two or more items")


def leave_k_out_split(
    data: Interactions, k: int = 1, *, random_state: int = 0
) -> tuple[Interactions, Interactions]:
    """Hold out ``k`` random distinct items of every user who has more than ``k``.

    Users with ``k`` or fewer items stay in training only, so every test user keeps at
    least one training item. (implicit's ``leave_k_out_split`` asks for more than ``k + 1``.)
    ``k=1`` is the leave-one-out protocol. Seeded and reproducible.

    Parameters
    ----------
    data : Interactions
        The interactions to split.
    k : int, default 1
        Items to hold out per eligible user (>= 1).
    random_state : int, default 0
        Seed; equal seeds give equal splits.

    Returns
    -------
    (train, test) : tuple of Interactions

    Raises
    ------
    ConfigError
        ``k`` is not an integer >= 1.
    DataError
        No user has more than ``k`` items.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays(["a", "a", "a", "b"], ["x", "y", "z", "x"])
    >>> train, test = leave_k_out_split(data, 2, random_state=0)
    >>> test.users.ids.tolist(), test.nnz, train.nnz
    (['a'], 2, 2)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be an integer >= 1, got {k!r}.")
    lengths = np.diff(data.matrix.indptr).astype(np.int64)
    n_test = np.where(lengths > k, int(k), 0).astype(np.int64)
    return _rank_split(data, n_test, random_state, f"more than {int(k)} items")


def _rows_of(
    data: Interactions | IdLike | Iterable[ExternalId],
    item_ids: IdLike | Iterable[ExternalId] | None,
    weights: npt.ArrayLike | None,
    timestamps: npt.ArrayLike | None,
) -> tuple[IdArray, IdArray, npt.NDArray[Any], FloatArray64]:
    """The rows to split: ``(users, items, weights, seconds)``, from a dataset or columns."""
    if isinstance(data, Interactions):
        if item_ids is not None or weights is not None or timestamps is not None:
            raise ConfigError(
                "time_split(data) takes the rows and their timestamps from the Interactions; "
                "do not pass item_ids, weights or timestamps with it."
            )
        if data.timestamps is None:
            raise DataError(
                "These Interactions have no timestamps: read them with timestamp=<column> "
                "(from_csv/from_sql/from_frame) or timestamps=... (from_arrays)."
            )
        coo = data.matrix.tocoo()
        return data.users.ids[coo.row], data.items.ids[coo.col], coo.data, data.timestamps
    if item_ids is None or timestamps is None:
        raise ConfigError(
            "time_split needs an Interactions with timestamps, or the columns user_ids, "
            "item_ids, weights and timestamps."
        )
    users = as_id_array(data, "user IDs")
    items = as_id_array(item_ids, "item IDs")
    if users.size != items.size:
        raise DataError(
            f"user_ids has {users.size} entries but item_ids has {items.size}; "
            "they must have one entry per interaction."
        )
    if users.size == 0:
        raise DataError("No interactions given: user_ids and item_ids are empty.")
    n = int(users.size)
    seconds = parse_timestamps(timestamps)
    if seconds.size != n:
        raise DataError(f"timestamps has {seconds.size} entries but there are {n} interactions.")
    w = np.ones(n, dtype=np.float32) if weights is None else np.asarray(weights)
    if w.ndim != 1 or w.size != n:
        raise DataError(f"weights must have one entry per row ({n}), got shape {w.shape}.")
    return users, items, w, seconds


def _latest_per_user(users: IdArray, times: FloatArray64, fraction: float) -> npt.NDArray[np.bool_]:
    """Each user's latest ``round(fraction * rows)`` rows (at least 1, at most all but 1)."""
    n = int(users.size)
    mapper, codes = IdMapper.factorize(users, "user IDs")
    order = np.lexsort((np.arange(n), times, codes))
    lengths = np.bincount(codes, minlength=len(mapper)).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    sorted_codes = codes[order]
    pos = np.arange(n, dtype=np.int64) - starts[sorted_codes]
    n_test_user = np.where(
        lengths >= 2, np.clip(np.rint(lengths * fraction), 1, lengths - 1), 0
    ).astype(np.int64)
    is_test = np.empty(n, dtype=bool)
    is_test[order] = pos >= lengths[sorted_codes] - n_test_user[sorted_codes]
    return is_test


def time_split(
    data: Interactions | IdLike | Iterable[ExternalId],
    item_ids: IdLike | Iterable[ExternalId] | None = None,
    weights: npt.ArrayLike | None = None,
    timestamps: npt.ArrayLike | None = None,
    *,
    test_fraction: float = 0.2,
    cutoff: object = None,
    mode: Literal["global", "per-user"] = "global",
) -> tuple[Interactions, Interactions]:
    """Split interactions by time: the past trains, the future tests.

    Give either an :class:`~alsrec.Interactions` read with timestamps
    (``Interactions.from_csv(..., timestamp="ts")``): its stored pairs are split, each at
    its timestamp (the latest of the rows merged into it); or, as before, raw rows as four
    columns ``user_ids, item_ids, weights, timestamps``. Timestamps and ``cutoff`` are
    read by the one parser of :mod:`alsrec.data.timestamps` (numbers, ISO 8601 text,
    ``datetime``, ``datetime64``).

    ``mode="global"``: every row at or after a cutoff time is a test row. The cutoff is
    ``cutoff`` if given, else the timestamp below which ``1 - test_fraction`` of the rows
    lie (rows tied at the cutoff all go to the test set, so the test share can be a little
    larger). This is the realistic protocol (train on the past, predict the future); test
    users or items that first appear after the cutoff are unknown to the model and are
    counted, not scored, by :func:`evaluate`.

    ``mode="per-user"``: each user with at least two rows gives their latest
    ``round(test_fraction * rows)`` rows (at least one, at most all but one) to the test
    set; rows with equal timestamps keep their input order.

    The split is deterministic (no randomness). Duplicate ``(user, item)`` rows are summed
    within each part, as in :meth:`Interactions.from_arrays`; both parts keep timestamps.

    Parameters
    ----------
    data : Interactions, or the user IDs of raw rows
        A dataset with :attr:`~alsrec.Interactions.timestamps`, or one user ID per row.
    item_ids, weights, timestamps
        With raw rows only: one item ID, weight (> 0, or ``None`` for 1.0 each) and time
        per row.
    test_fraction : float, default 0.2
        Share of rows to test on, strictly between 0 and 1 (ignored when ``cutoff`` is
        given).
    cutoff : number, str or datetime64, optional
        Explicit cutoff time for ``mode="global"``.
    mode : {"global", "per-user"}, default "global"
        Which protocol, as above.

    Returns
    -------
    (train, test) : tuple of Interactions

    Raises
    ------
    ConfigError
        Bad ``test_fraction``/``mode``, ``cutoff`` with ``mode="per-user"``, or columns
        passed along with an Interactions.
    DataError
        Unreadable timestamps (NaN, NaT, text that is not a date), wrong lengths, an
        Interactions without timestamps, or a split with an empty side.

    Examples
    --------
    >>> def pairs(data):
    ...     m = data.matrix.tocoo()
    ...     return sorted(zip(data.users.ids[m.row].tolist(), data.items.ids[m.col].tolist()))
    >>> users = ["a", "a", "a", "b", "b"]
    >>> items = ["x", "y", "z", "x", "y"]
    >>> times = [1, 2, 5, 3, 4]
    >>> train, test = time_split(users, items, None, times, cutoff=4)
    >>> pairs(test)
    [('a', 'z'), ('b', 'y')]
    >>> train, test = time_split(users, items, None, times, test_fraction=0.5, mode="per-user")
    >>> pairs(test)
    [('a', 'y'), ('a', 'z'), ('b', 'y')]
    >>> dated = Interactions.from_arrays(users, items, timestamps=times)
    >>> pairs(time_split(dated, cutoff=4)[1])
    [('a', 'z'), ('b', 'y')]
    """
    if mode not in ("global", "per-user"):
        raise ConfigError(f"mode must be 'global' or 'per-user', got {mode!r}.")
    users, items, w, times = _rows_of(data, item_ids, weights, timestamps)
    n = int(users.size)
    if cutoff is not None:
        if mode != "global":
            raise ConfigError("cutoff only applies to mode='global'; drop it or change mode.")
        try:
            cut = to_seconds(cutoff)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ConfigError(
                f"cutoff {cutoff!r} is neither a number nor an ISO 8601 date/time."
            ) from exc
        is_test = times >= cut
    else:
        fraction = _check_fraction(test_fraction)
        if mode == "global":
            n_test = max(1, round(n * fraction))
            is_test = times >= float(np.sort(times, kind="stable")[n - n_test])
        else:
            is_test = _latest_per_user(users, times, fraction)
    if not is_test.any():
        raise DataError("The time split left the test set empty; lower the cutoff.")
    if is_test.all():
        raise DataError(
            "The time split left the training set empty: every row is at or after the "
            "cutoff (are all timestamps equal?)."
        )
    train = Interactions.from_arrays(
        users[~is_test], items[~is_test], w[~is_test], timestamps=times[~is_test]
    )
    test = Interactions.from_arrays(
        users[is_test], items[is_test], w[is_test], timestamps=times[is_test]
    )
    return train, test
