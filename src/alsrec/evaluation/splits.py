"""Held-out splits: random holdout, leave-k-out, time and held-out-user splits.

See :mod:`alsrec.evaluation` for the protocols.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from alsrec.checks import check_seed
from alsrec.data.interactions import Interactions, require_interactions
from alsrec.data.timestamps import parse_timestamps, to_seconds
from alsrec.exceptions import ConfigError, DataError
from alsrec.ids import as_id_array
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.types import ExternalId, IdArray, IdLike, IndexArray

__all__ = [
    "HeldOutUsers",
    "UserSplit",
    "holdout_split",
    "leave_k_out_split",
    "time_split",
    "user_split",
]

FloatArray64 = npt.NDArray[np.float64]


def _check_fraction(value: object, name: str = "test_fraction") -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ConfigError(f"{name} must be a number, got {value!r}.")
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must be strictly between 0 and 1, got {value!r}.")
    return float(value)


def _n_held_out(lengths: npt.NDArray[np.int64], fraction: float) -> npt.NDArray[np.int64]:
    """``round(fraction * n)`` per user of ``n >= 2`` items, clipped to ``[1, n - 1]``; else 0."""
    share = np.clip(np.rint(lengths * fraction), 1, np.maximum(lengths - 1, 1))
    return np.where(lengths >= 2, share, 0).astype(np.int64)


def _n_target(lengths: npt.NDArray[np.int64], fraction: float) -> npt.NDArray[np.int64]:
    """``floor(fraction * n)`` per user of ``n`` items, at most ``n - 1``: Liang et al.'s
    rule (``int(0.2 * n)``; a user it gives none to is only folded in)."""
    share = np.floor(lengths * fraction + 1e-9).astype(np.int64)  # 0.2 * 5 may be 0.99...
    out: npt.NDArray[np.int64] = np.minimum(share, np.maximum(lengths - 1, 0))
    return out


def _least_scored(share: float) -> int:
    """The fewest items of a user that :func:`_n_target` gives a target item (5 at 0.2)."""
    return math.ceil(1.0 / share - 1e-6)


def _rank_split(
    data: Interactions, n_test: npt.NDArray[np.int64], random_state: int | None, what: str
) -> tuple[Interactions, Interactions]:
    """Send ``n_test[u]`` random distinct items of each user ``u`` to the test set."""
    matrix = data.matrix.tocsr()
    lengths = np.diff(matrix.indptr).astype(np.int64)
    rng = np.random.default_rng(check_seed("random_state", random_state))
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
    data: Interactions, test_fraction: float = 0.2, *, random_state: int | None = 0
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
    random_state : int or None, default 0
        Seed; equal seeds give equal splits (``None``: fresh randomness, a different
        split on each call).

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
    require_interactions(data, "data", "holdout_split")
    fraction = _check_fraction(test_fraction)
    lengths = np.diff(data.matrix.indptr).astype(np.int64)
    return _rank_split(data, _n_held_out(lengths, fraction), random_state, "two or more items")


def leave_k_out_split(
    data: Interactions, k: int = 1, *, random_state: int | None = 0
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
    random_state : int or None, default 0
        Seed; equal seeds give equal splits (``None``: fresh randomness, a different
        split on each call).

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
    require_interactions(data, "data", "leave_k_out_split")
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
    n_test_user = _n_held_out(lengths, fraction)
    is_test = np.empty(n, dtype=bool)
    is_test[order] = pos >= lengths[sorted_codes] - n_test_user[sorted_codes]
    return is_test


def _unit_hint(cutoff: object, cut: float, times: npt.NDArray[np.float64]) -> str:
    """A note when a date cutoff meets numeric timestamps in another unit: numbers are
    kept as given, a date becomes seconds since 1970."""
    if isinstance(cutoff, (int, float, np.number)) and not isinstance(cutoff, bool):
        return ""
    lo, hi = float(times.min()), float(times.max())
    if lo > 1e11:  # after the year 5138 in seconds: milliseconds or finer
        unit = "milliseconds" if lo < 1e14 else "microseconds or nanoseconds"
        return (
            f". The cutoff {cutoff!r} is {cut:.6g} seconds since 1970, but the timestamps "
            f"look like {unit}: convert them to seconds, or give the cutoff in their unit"
        )
    if lo >= 1e7 and hi < 3e7:  # e.g. 20200115 (yyyymmdd) written as a number
        return (
            f". The cutoff {cutoff!r} is {cut:.6g} seconds since 1970, but the timestamps are "
            "numbers like 20200115 (kept as given): write them as dates (2020-01-15), or "
            "give the cutoff as such a number"
        )
    return ""


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
    if not is_test.any() or is_test.all():
        side = "test" if not is_test.any() else "training"
        hint = "lower the cutoff" if side == "test" else "raise the cutoff"
        if cutoff is not None:
            hint += _unit_hint(cutoff, cut, times)
        elif mode != "global":  # per user: a user's latest rows; no cutoff to move
            hint = (
                "no user has two or more rows, so nothing can be held out"
                if side == "test"
                else "lower test_fraction"
            )
        elif side == "training":
            hint = "are all timestamps equal?"
        raise DataError(
            f"The time split left the {side} set empty (timestamps {times.min():.6g} to "
            f"{times.max():.6g}"
            + (f", cutoff {cut:.6g}" if cutoff is not None else "")
            + f"): {hint}"
            + ("" if hint.endswith("?") else ".")
        )
    train = Interactions.from_arrays(
        users[~is_test], items[~is_test], w[~is_test], timestamps=times[~is_test]
    )
    test = Interactions.from_arrays(
        users[is_test], items[is_test], w[is_test], timestamps=times[is_test]
    )
    return train, test


class HeldOutUsers(NamedTuple):
    """One group of held-out users of :func:`user_split`: what is folded in, what is scored.

    Both parts hold the same users (a user whose history cannot be split has no
    ``target`` rows) and only items that some training user has.

    Attributes
    ----------
    fold_in : Interactions
        About ``fold_in_fraction`` of each held-out user's distinct items: the history a
        model folds in, without retraining, to represent the user.
    target : Interactions
        The rest of each held-out user's items: what the model should rank highly.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> fold_in, target = HeldOutUsers(
    ...     Interactions.from_arrays(["h", "h"], ["a", "b"]),
    ...     Interactions.from_arrays(["h"], ["c"]),
    ... )
    >>> fold_in.nnz, target.nnz
    (2, 1)
    """

    fold_in: Interactions
    target: Interactions


class UserSplit(NamedTuple):
    """What :func:`user_split` returns: ``(train, validation, test)``.

    Attributes
    ----------
    train : Interactions
        Every interaction of the training users.
    validation : HeldOutUsers or None
        The validation users' data (``None`` with ``n_validation=0``).
    test : HeldOutUsers
        The test users' data.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays([u for u in range(6) for _ in range(5)], list("abcde") * 6)
    >>> train, validation, test = user_split(data, 0, 2, random_state=0)
    >>> validation is None, len(train.users), test.target.nnz
    (True, 4, 2)
    """

    train: Interactions
    validation: HeldOutUsers | None
    test: HeldOutUsers


def _n_users(value: object, name: str, n_eligible: int, minimum: int) -> int:
    """A count of users, given as a count (int) or as a share of the eligible users (float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, np.integer, float, np.floating)
    ):
        raise ConfigError(
            f"{name} must be a number of users (an int) or a share of them (a float "
            f"between 0 and 1), got {value!r}."
        )
    if isinstance(value, (float, np.floating)):
        fraction = _check_fraction(value, name)
        return max(1, round(fraction * n_eligible))
    if int(value) < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}.")
    return int(value)


def _pairs_of(
    data: Interactions, mask: npt.NDArray[np.bool_], rows: IndexArray, cols: IndexArray
) -> Interactions:
    """The stored pairs of ``data`` where ``mask`` is True, with weights and timestamps."""
    times = data.timestamps
    return Interactions.from_arrays(
        data.users.ids[rows[mask]],
        data.items.ids[cols[mask]],
        data.matrix.data.astype(np.float32)[mask],
        timestamps=None if times is None else times[mask],
    )


def user_split(
    data: Interactions,
    n_validation: int | float,
    n_test: int | float,
    *,
    fold_in_fraction: float = 0.8,
    random_state: int | None = 0,
) -> UserSplit:
    """Hold out whole users: the strong-generalization split of Liang et al. (2018).

    Random users are set aside as validation and test users; the model trains on every
    interaction of the other users and never sees the held-out ones. Each held-out user's
    distinct items are then split at random into a part to fold in (``fold_in_fraction``
    of them, rounded up, :attr:`HeldOutUsers.fold_in`) and a part to score
    (:attr:`HeldOutUsers.target`): :func:`evaluate_strong_generalization` folds the first
    part in without retraining and ranks the second. This is the protocol of the VAE-CF
    paper (Liang, Krishnan, Hoffman and Jebara, WWW 2018), on which Rendle, Krichene,
    Zhang and Koren (RecSys 2022) report iALS.

    The sizes follow Liang et al.'s code: a held-out user with ``n`` items gives
    ``floor((1 - fold_in_fraction) * n)`` of them to ``target`` (``int(0.2 * n)``: one
    of 5 to 9 items, two of 10 to 14), and a user that gives none (fewer than 5 items at
    the default) is folded in but not scored. So held-out users are drawn among the
    users with enough distinct items to score one (5 at the default; the others always
    train). Items that no training user has are then removed from the held-out users'
    data, as in that protocol (a model trained on ``train`` cannot know them), before
    the sizes are taken. Seeded and reproducible.

    Parameters
    ----------
    data : Interactions
        The interactions to split (filter them first, e.g. with
        ``min_user_interactions=5`` as Liang et al. do).
    n_validation : int or float
        Validation users: a number (0 for none), or a share of the eligible users (a
        float strictly between 0 and 1).
    n_test : int or float
        Test users: a number (>= 1) or a share, as ``n_validation``.
    fold_in_fraction : float, default 0.8
        Share of each held-out user's items to fold in, strictly between 0 and 1.
    random_state : int or None, default 0
        Seed; equal seeds give equal splits (``None``: fresh randomness, a different
        split on each call).

    Returns
    -------
    UserSplit
        ``(train, validation, test)``; ``validation`` and ``test`` are
        :class:`HeldOutUsers` ``(fold_in, target)``. All parts keep the timestamps of
        ``data``, if it has any.

    Raises
    ------
    ConfigError
        ``n_validation``, ``n_test`` or ``fold_in_fraction`` out of range or of the wrong
        type (the message names the keyword).
    DataError
        Fewer eligible users than ``n_validation + n_test`` plus one to train on, or no
        held-out user with an item left to score.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> users = [u for u in range(10) for _ in range(5)]
    >>> items = [(u + j) % 8 for u in range(10) for j in range(5)]
    >>> split = user_split(Interactions.from_arrays(users, items), 2, 3, random_state=0)
    >>> len(split.train.users), len(split.validation.fold_in.users), len(split.test.target.users)
    (5, 2, 3)
    >>> split.test.fold_in.nnz, split.test.target.nnz  # 4 + 1 of each user's 5 items
    (12, 3)
    """
    require_interactions(data, "data", "user_split")
    fraction = _check_fraction(fold_in_fraction, "fold_in_fraction")
    matrix = data.matrix.tocsr()
    lengths = np.diff(matrix.indptr).astype(np.int64)
    share = round(1.0 - fraction, 6)  # a float32 0.8 is 0.8 here, so 5 items score one
    if share <= 0.0:
        raise ConfigError(
            f"fold_in_fraction={fold_in_fraction!r} leaves no share of a user's items to "
            "score (it rounds to 1); use at most 0.999999, e.g. the protocol's 0.8."
        )
    eligible = np.flatnonzero(_n_target(lengths, share) >= 1)
    n_val = _n_users(n_validation, "n_validation", eligible.size, 0)
    n_tst = _n_users(n_test, "n_test", eligible.size, 1)
    n_users = len(data.users)
    if n_val + n_tst > eligible.size or n_val + n_tst >= n_users:
        raise DataError(
            f"n_validation={n_validation!r} and n_test={n_test!r} ask for {n_val + n_tst} "
            f"held-out users, but only {eligible.size} of the {n_users} users have enough "
            f"items to score one ({_least_scored(share)} or more at fold_in_fraction="
            f"{fraction:g}), and at least one user must stay to train on. Hold out fewer users."
        )
    rng = np.random.default_rng(check_seed("random_state", random_state))
    drawn = rng.permutation(eligible)
    group = np.zeros(n_users, dtype=np.int8)  # 0 train, 1 validation, 2 test
    group[drawn[:n_val]] = 1
    group[drawn[n_val : n_val + n_tst]] = 2
    rows = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    cols = matrix.indices.astype(np.int64)
    in_train = group[rows] == 0
    train_items = np.zeros(matrix.shape[1], dtype=bool)
    train_items[cols[in_train]] = True
    seeds = rng.integers(0, np.iinfo(np.int64).max, size=2)
    held: list[HeldOutUsers | None] = []
    for code, seed in ((1, seeds[0]), (2, seeds[1])):
        if code == 1 and n_val == 0:
            held.append(None)
            continue
        name = "validation" if code == 1 else "test"
        mask = (group[rows] == code) & train_items[cols]
        if not mask.any():
            raise DataError(
                f"The {name} users have no item that a training user has, so nothing is "
                "left to fold in or score. Hold out fewer users, or filter rare items first."
            )
        users = _pairs_of(data, mask, rows, cols)
        counts = np.diff(users.matrix.indptr).astype(np.int64)
        n_target = _n_target(counts, share)
        what = (
            f"{_least_scored(share)} or more items among the {name} users (after "
            "removing the items that no training user has)"
        )
        fold_in, target = _rank_split(users, n_target, int(seed), what)
        held.append(HeldOutUsers(fold_in, target))
    test = held[1]
    assert test is not None
    return UserSplit(_pairs_of(data, in_train, rows, cols), held[0], test)
