"""Held-out splits, ranking metrics at ``k``, and the popularity baseline.

Everything here works on external IDs: a test pair counts as a hit when the recommended
ID equals the held-out ID, whatever indices the model uses internally.

Splits
------
All splits return ``(train, test)`` :class:`~alsrec.Interactions` and are reproducible:
the same input and ``random_state`` give the same split.

- :func:`holdout_split`: a random fraction of each user's distinct items goes to the test
  set (at least one; at least one stays in training).
- :func:`leave_k_out_split`: ``k`` random distinct items of each user with more than ``k``
  items go to the test set.
- :func:`time_split`: from raw columns with timestamps, either every interaction at or
  after a cutoff time (``mode="global"``) or the latest interactions of each user
  (``mode="per-user"``) go to the test set.

Who and what is evaluated
-------------------------
For a model and a test set, user ``u`` is *evaluated* when the model knows ``u`` and ``u``
has at least one *relevant* item. The relevant set ``R_u`` is ``u``'s test items minus

- ``u``'s training items (they are excluded from recommendations, so they could never be
  hit; this matters for time splits, where users come back to items), and
- items the model does not know (no model trained on the same data could recommend them).

Test relevance is binary: test weights are ignored. Test users the model does not know,
users left without relevant items, and the dropped pairs are counted in the
:class:`EvaluationReport`, so compare models only on the same split.

``L_u`` is the model's top-``k`` list for ``u`` with ``u``'s training items excluded; it
is shorter than ``k`` only when fewer than ``k`` items are left to recommend. ``h_j`` is 1
when the item at rank ``j`` (1-based) is in ``R_u``, ``H_u = sum_j h_j`` is the number of
hits and ``n_u = |R_u|``.

Metric definitions
------------------
Each metric below is computed per evaluated user and averaged over users (a *macro*
average), except catalog coverage (a set property) and popularity rank (a mean over all
recommended slots).

precision@k
    ``H_u / k``. The textbook definition: a user with fewer than ``k`` relevant items
    cannot reach 1. implicit's ``ranking_metrics_at_k`` reports a different quantity under
    this name: the total of hits over all users divided by the total of ``min(k, n_u)``
    (pooled, not averaged per user, and normalised by what is attainable). alsrec does
    not follow implicit here; :attr:`UserMetrics.hits` and :attr:`UserMetrics.n_relevant`
    give what is needed to compute implicit's number.
recall@k
    ``H_u / n_u``.
MAP@k (``map``)
    Mean over users of ``AP_u = (1 / min(k, n_u)) * sum_j h_j * (h_1 + ... + h_j) / j``.
    Same as implicit.
NDCG@k (``ndcg``)
    ``DCG_u / IDCG_u`` with ``DCG_u = sum_j h_j / log2(j + 1)`` and ``IDCG_u`` the DCG of
    ``min(k, n_u)`` hits at the top. Same as implicit.
hit rate@k (``hit_rate``)
    1 when ``H_u > 0``, else 0.
MRR@k (``mrr``)
    ``1 / j`` for the rank ``j`` of the first hit, 0 when there is none (reciprocal rank
    truncated at ``k``).
AUC@k (``auc``)
    The probability that a random relevant item is ranked above a random negative item,
    where the ranking is the top-``k`` list followed by every other candidate in one tie
    (a tie counts one half). Candidates are the catalog minus ``u``'s training items;
    negatives are the candidates that are not relevant, ``N_u`` of them. With ``m`` the
    number of non-relevant items in the list and ``a`` the number of hits ranked above
    each of them::

        AUC_u = (sum a + H_u (N_u - m) + (n_u - H_u) (N_u - m) / 2) / (n_u N_u)

    (1 when ``N_u = 0``). This is implicit's "limited AUC" construction, except that
    implicit counts ``N_u`` as the whole catalog minus ``n_u``, i.e. it also counts the
    user's training items as negatives; the tests check both against it.
coverage@k (``coverage``)
    The fraction of the model's catalog that appears in at least one evaluated user's
    list: ``|union of L_u| / |catalog|``.
popularity rank@k (``popularity_rank``)
    The mean, over every recommended slot of every evaluated user, of the item's
    popularity rank: items are ranked by their number of training users, 1 = most popular,
    tied items share the mean of their ranks. Lower means more popular recommendations
    (more popularity bias); the popularity baseline sits near ``(k + 1) / 2``.

Confidence intervals
--------------------
:func:`evaluate` resamples the evaluated users with replacement (``bootstrap`` times) and
reports the 2.5th and 97.5th percentiles of each metric over the resamples (a percentile
bootstrap 95% interval). The model and the baseline share the same resamples. Catalog
coverage gets no interval: it is a property of the whole set of lists, and resampling
users biases it downwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.stats import rankdata

from alsrec._scoring import csr_row_entries
from alsrec.exceptions import ConfigError, DataError
from alsrec.interactions import Interactions
from alsrec.mapping import IdMapper, as_id_array
from alsrec.recommender import Recommender

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from alsrec.results import BatchRecommendations
    from alsrec.types import ExternalId, FloatArray, IdArray, IdLike, IndexArray

__all__ = [
    "METRICS",
    "EvaluationReport",
    "MetricEstimate",
    "PopularityBaseline",
    "RecommendsMany",
    "UserMetrics",
    "evaluate",
    "holdout_split",
    "leave_k_out_split",
    "ndcg_at_k",
    "per_user_metrics",
    "per_user_ndcg",
    "time_split",
]

METRICS: tuple[str, ...] = (
    "precision",
    "recall",
    "map",
    "ndcg",
    "hit_rate",
    "mrr",
    "auc",
    "coverage",
    "popularity_rank",
)
"""Names of the metrics :func:`evaluate` reports, in report order."""

_CONFIDENCE_LEVEL = 0.95
_BOOTSTRAP_BLOCK = 1 << 22
"""Resample entries (resamples x users) drawn at once, bounding bootstrap memory."""
_FETCH_BLOCK = 1 << 22
"""Recommendation slots (users x fetched items) requested at once."""


class RecommendsMany(Protocol):
    """Anything that can rank items for many users (a Recommender, a baseline, ...)."""

    def recommend_many(self, user_ids: IdArray, n: int = ...) -> BatchRecommendations:
        """Top-``n`` items per user, seen items excluded."""
        ...


# -- splits ------------------------------------------------------------------------------------


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

    def part(mask: npt.NDArray[np.bool_]) -> Interactions:
        return Interactions.from_arrays(
            data.users.ids[rows[mask]], data.items.ids[cols[mask]], weights[mask]
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


def _as_times(timestamps: npt.ArrayLike, n: int) -> tuple[npt.NDArray[Any], bool]:
    """Validate timestamps; return them as int64 (datetimes, in ns) or float64 numbers."""
    arr = np.asarray(timestamps)
    if arr.ndim != 1:
        raise DataError(f"timestamps must be one-dimensional, got shape {arr.shape}.")
    if arr.size != n:
        raise DataError(f"timestamps has {arr.size} entries but there are {n} interactions.")
    if arr.dtype.kind == "M":
        as_ns = arr.astype("datetime64[ns]")
        bad = np.flatnonzero(np.isnat(as_ns))
        if bad.size:
            raise DataError(
                f"timestamps must not be NaT; row {int(bad[0])} is ({bad.size} in all)."
            )
        return as_ns.view(np.int64), True
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64), False
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise DataError(
                f"timestamps must be finite; row {int(bad[0])} is {float(arr[bad[0]])!r} "
                f"({bad.size} in all). Drop those rows or fill them in."
            )
        return arr.astype(np.float64), False
    raise DataError(
        f"timestamps must be numbers or numpy datetime64 values, got dtype {arr.dtype}. "
        "Parse them first, e.g. with numpy.datetime64 or pandas.to_datetime."
    )


def time_split(
    user_ids: IdLike | Iterable[ExternalId],
    item_ids: IdLike | Iterable[ExternalId],
    weights: npt.ArrayLike | None,
    timestamps: npt.ArrayLike,
    *,
    test_fraction: float = 0.2,
    cutoff: float | np.datetime64 | None = None,
    mode: Literal["global", "per-user"] = "global",
) -> tuple[Interactions, Interactions]:
    """Split raw interaction rows by time: the past trains, the future tests.

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
    within each part, as in :meth:`Interactions.from_arrays`.

    Parameters
    ----------
    user_ids, item_ids
        One user and one item ID per row.
    weights : array_like or None
        One weight per row (> 0), or ``None`` for 1.0 each.
    timestamps : array_like
        One time per row: numbers (e.g. seconds since the epoch) or ``datetime64``.
    test_fraction : float, default 0.2
        Share of rows to test on, strictly between 0 and 1 (ignored when ``cutoff`` is
        given).
    cutoff : number or numpy.datetime64, optional
        Explicit cutoff time for ``mode="global"``, of the same kind as ``timestamps``.
    mode : {"global", "per-user"}, default "global"
        Which protocol, as above.

    Returns
    -------
    (train, test) : tuple of Interactions

    Raises
    ------
    ConfigError
        Bad ``test_fraction``/``mode``, or ``cutoff`` with ``mode="per-user"``.
    DataError
        Bad timestamps (NaN, NaT, strings, wrong length) or IDs/weights, or a split with an
        empty side.

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
    """
    if mode not in ("global", "per-user"):
        raise ConfigError(f"mode must be 'global' or 'per-user', got {mode!r}.")
    users = as_id_array(user_ids, "user IDs")
    items = as_id_array(item_ids, "item IDs")
    if users.size != items.size:
        raise DataError(
            f"user_ids has {users.size} entries but item_ids has {items.size}; "
            "they must have one entry per interaction."
        )
    if users.size == 0:
        raise DataError("No interactions given: user_ids and item_ids are empty.")
    n = int(users.size)
    w = np.ones(n, dtype=np.float32) if weights is None else np.asarray(weights)
    times, is_datetime = _as_times(timestamps, n)
    if cutoff is not None:
        if mode != "global":
            raise ConfigError("cutoff only applies to mode='global'; drop it or change mode.")
        if is_datetime:
            as_time = np.datetime64(cast("Any", cutoff)).astype("datetime64[ns]")
            cut: float = float(as_time.view(np.int64))
        elif isinstance(cutoff, np.datetime64):
            raise ConfigError("cutoff is a datetime64 but the timestamps are numbers.")
        else:
            cut = float(cutoff)
        is_test = times >= cut
    else:
        fraction = _check_fraction(test_fraction)
        if mode == "global":
            n_test = max(1, round(n * fraction))
            cut = float(np.sort(times, kind="stable")[n - n_test])
            is_test = times >= cut
        else:
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
    if not is_test.any():
        raise DataError("The time split left the test set empty; lower the cutoff.")
    if is_test.all():
        raise DataError(
            "The time split left the training set empty: every row is at or after the "
            "cutoff (are all timestamps equal?)."
        )
    w_arr = np.asarray(w)
    if w_arr.ndim != 1 or w_arr.size != n:
        raise DataError(f"weights must have one entry per row ({n}), got shape {w_arr.shape}.")
    train = Interactions.from_arrays(users[~is_test], items[~is_test], w_arr[~is_test])
    test = Interactions.from_arrays(users[is_test], items[is_test], w_arr[is_test])
    return train, test


# -- per-user metrics --------------------------------------------------------------------------


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or int(k) < 1:
        raise ConfigError(f"k must be an integer >= 1, got {k!r}.")
    return int(k)


def _training_matrix(recommender: Recommender, train: Interactions | None) -> sp.csr_matrix:
    """Training pairs in the model's index space: (model users x model items), binary."""
    users, items = recommender.users_, recommender.items_
    if train is None:
        seen = recommender.seen_
        if seen is None:
            raise ConfigError(
                "This model does not know its training interactions (it was built from "
                "factors without seen=...); pass train= to evaluate it."
            )
        out = sp.csr_matrix(seen, dtype=np.float32, copy=True)
    else:
        coo = train.matrix.tocoo()
        rows = users.to_index(train.users.ids, missing="negative")[coo.row]
        cols = items.to_index(train.items.ids, missing="negative")[coo.col]
        keep = (rows >= 0) & (cols >= 0)
        out = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
            shape=(len(users), len(items)),
        )
        out.sum_duplicates()
    out.data[:] = 1.0
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _popularity_recommender(
    users: IdMapper, items: IdMapper, seen: sp.csr_matrix, policy: Literal["safe", "strict"]
) -> Recommender:
    """Rank-1 factors whose dot products order items by number of training users.

    Each item's factor is ``n_items - position`` in the order (most training users first,
    then lower index), so no two items tie and the order never depends on how a top-k
    routine breaks ties. (Exact in float32 up to 2**24 items.)
    """
    counts = np.bincount(seen.indices, minlength=seen.shape[1])
    order = np.lexsort((np.arange(counts.size), -counts))
    strength = np.empty(counts.size, dtype=np.float32)
    strength[order] = np.arange(counts.size, 0, -1, dtype=np.float32)
    user_factors = np.ones((len(users), 1), dtype=np.float32)
    return Recommender.from_factors(
        user_factors, strength[:, None], users, items, seen=seen, policy=policy,
        backend_name="popularity",
    )  # fmt: skip


def _keys(rows: IndexArray, cols: IndexArray, width: int) -> IndexArray:
    return rows * max(width, 1) + cols


def _top_k(
    recommender: Recommender,
    model_rows: IndexArray,
    remove: sp.csr_matrix | None,
    k: int,
    n_fetch: int,
) -> IndexArray:
    """Item indices of each user's top ``k`` minus the items in ``remove``; ``-1`` padded."""
    items = recommender.items_
    n_users = model_rows.size
    batch = recommender.recommend_many(recommender.users_.ids[model_rows], n=n_fetch)
    pos = np.full((n_users, n_fetch), -1, dtype=np.int64)
    if batch.mask.any():
        pos[batch.mask] = items.to_index(batch.ids[batch.mask])
    if remove is not None:
        # Remove training items the model did not exclude itself, then close the gaps.
        t_rows, t_cols = csr_row_entries(
            remove.indptr, remove.indices, np.arange(n_users, dtype=np.int64)
        )
        row_of = np.broadcast_to(np.arange(n_users, dtype=np.int64)[:, None], pos.shape)
        width = len(items)
        drop = (pos >= 0) & np.isin(_keys(row_of, pos, width), _keys(t_rows, t_cols, width))
        if drop.any():
            pos[drop] = -1
            pos = np.take_along_axis(pos, np.argsort(pos < 0, axis=1, kind="stable"), axis=1)
    out = np.full((n_users, k), -1, dtype=np.int64)
    out[:, : min(k, n_fetch)] = pos[:, :k]
    return out


@dataclass(frozen=True, eq=False)
class UserMetrics:
    """The top-``k`` lists of the evaluated users and what they hit (see the module doc).

    Row ``i`` of every array belongs to ``users[i]``. Per-user metric values are the
    properties :attr:`precision`, :attr:`recall`, ... (``float64`` arrays).

    Attributes
    ----------
    k : int
        List length.
    users : numpy.ndarray
        Evaluated user IDs, in the order of the test set.
    items : numpy.ndarray, shape (n_users, k)
        Recommended item IDs, best first; padded like
        :class:`~alsrec.BatchRecommendations` where ``mask`` is False.
    mask : numpy.ndarray of bool, shape (n_users, k)
        True where a slot holds an item.
    hit : numpy.ndarray of bool, shape (n_users, k)
        True where the slot's item is relevant.
    n_relevant : numpy.ndarray of int64
        ``n_u``: relevant items per user.
    n_candidates : numpy.ndarray of int64
        Items the model could recommend to the user (catalog minus training items).
    item_popularity_rank : numpy.ndarray of float64, shape (n_users, k)
        Popularity rank of each slot's item (NaN where padded).
    n_catalog : int
        Items the model knows.
    skipped_unknown_users : int
        Test users the model does not know (not evaluated).
    skipped_users_without_relevant : int
        Known test users whose test items were all training items or unknown items.
    dropped_seen_pairs, dropped_unknown_item_pairs : int
        Test pairs left out of ``R_u`` because the item was a training item of the user,
        or is unknown to the model.
    """

    k: int
    users: IdArray
    items: IdArray
    mask: npt.NDArray[np.bool_]
    hit: npt.NDArray[np.bool_]
    n_relevant: npt.NDArray[np.int64]
    n_candidates: npt.NDArray[np.int64]
    item_popularity_rank: npt.NDArray[np.float64]
    n_catalog: int
    skipped_unknown_users: int
    skipped_users_without_relevant: int
    dropped_seen_pairs: int
    dropped_unknown_item_pairs: int

    def __len__(self) -> int:
        return int(self.users.size)

    @property
    def hits(self) -> npt.NDArray[np.int64]:
        """``H_u``: relevant items in each list."""
        return cast("npt.NDArray[np.int64]", self.hit.sum(axis=1).astype(np.int64))

    @property
    def precision(self) -> npt.NDArray[np.float64]:
        """``H_u / k``."""
        return self.hits / float(self.k)

    @property
    def recall(self) -> npt.NDArray[np.float64]:
        """``H_u / n_u``."""
        return self.hits / self.n_relevant.astype(np.float64)

    @property
    def map(self) -> npt.NDArray[np.float64]:
        """Average precision ``AP_u``, normalised by ``min(k, n_u)``."""
        hit = self.hit.astype(np.float64)
        precision_at = np.cumsum(hit, axis=1) / np.arange(1, self.k + 1)
        ap = (hit * precision_at).sum(axis=1) / np.minimum(self.k, self.n_relevant)
        return cast("npt.NDArray[np.float64]", ap)

    @property
    def ndcg(self) -> npt.NDArray[np.float64]:
        """``DCG_u / IDCG_u`` with binary gains and a ``log2(rank + 1)`` discount."""
        discounts = 1.0 / np.log2(np.arange(2, self.k + 2))
        dcg = (self.hit * discounts).sum(axis=1)
        ideal = np.cumsum(discounts)[np.minimum(self.k, self.n_relevant) - 1]
        return cast("npt.NDArray[np.float64]", dcg / ideal)

    @property
    def hit_rate(self) -> npt.NDArray[np.float64]:
        """1.0 for a list with at least one hit, else 0.0."""
        return (self.hits > 0).astype(np.float64)

    @property
    def mrr(self) -> npt.NDArray[np.float64]:
        """Reciprocal rank of the first hit, 0 without one."""
        first = np.argmax(self.hit, axis=1)
        return np.where(self.hits > 0, 1.0 / (first + 1.0), 0.0)

    @property
    def auc(self) -> npt.NDArray[np.float64]:
        """Limited AUC with the user's training items not counted as negatives."""
        return self.auc_with_negatives(self.n_candidates - self.n_relevant)

    def auc_with_negatives(self, n_negative: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The limited AUC of each user for a given number of negatives ``N_u``.

        :attr:`auc` uses ``n_candidates - n_relevant``; passing
        ``n_catalog - n_relevant`` gives implicit's variant.
        """
        neg = np.asarray(n_negative, dtype=np.float64)
        miss = self.mask & ~self.hit
        above = np.cumsum(self.hit, axis=1)  # hits ranked above (or at) each slot
        pairs_in_list = (above * miss).sum(axis=1).astype(np.float64)
        h = self.hits.astype(np.float64)
        rel = self.n_relevant.astype(np.float64)
        below = neg - miss.sum(axis=1)
        total = pairs_in_list + h * below + 0.5 * (rel - h) * below
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(neg > 0, total / (rel * np.maximum(neg, 1.0)), 1.0)
        return cast("npt.NDArray[np.float64]", out)

    @property
    def coverage(self) -> float:
        """Fraction of the catalog recommended to at least one evaluated user."""
        shown = np.unique(self.items[self.mask]).size
        return shown / self.n_catalog if self.n_catalog else 0.0

    @property
    def popularity_rank(self) -> float:
        """Mean popularity rank over every recommended slot (NaN with no slot at all)."""
        ranks = self.item_popularity_rank[self.mask]
        return float(ranks.mean()) if ranks.size else float("nan")

    def ratio_terms(self) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
        """Per-user ``(numerator, denominator)`` whose sums give each averaged metric.

        Every metric except coverage is ``sum(numerator) / sum(denominator)`` over users,
        which is what the bootstrap resamples.
        """
        ones = np.ones(len(self), dtype=np.float64)
        ranks = np.where(self.mask, self.item_popularity_rank, 0.0).sum(axis=1)
        return {
            "precision": (self.precision, ones),
            "recall": (self.recall, ones),
            "map": (self.map, ones),
            "ndcg": (self.ndcg, ones),
            "hit_rate": (self.hit_rate, ones),
            "mrr": (self.mrr, ones),
            "auc": (self.auc, ones),
            "popularity_rank": (ranks, self.mask.sum(axis=1).astype(np.float64)),
        }


def per_user_metrics(
    recommender: Recommender,
    test: Interactions,
    k: int = 10,
    *,
    train: Interactions | None = None,
) -> UserMetrics:
    """Compute each evaluated user's top-``k`` list and its hits (see the module doc).

    Parameters
    ----------
    recommender : Recommender
        A fitted model.
    test : Interactions
        Held-out interactions (weights are ignored: relevance is binary).
    k : int, default 10
        List length.
    train : Interactions, optional
        The training interactions. Defaults to what the model was fitted on
        (``recommender.seen_``); needed for a model built from factors without ``seen``.
        Training items are excluded from the lists even when the model itself does not
        exclude them.

    Returns
    -------
    UserMetrics

    Raises
    ------
    ConfigError
        Bad ``k``, or no training interactions known.
    DataError
        No test user can be evaluated, or test/training IDs of another type (int/str)
        than the model's.

    Examples
    --------
    >>> import numpy as np
    >>> from alsrec import Interactions, Recommender
    >>> rec = Recommender.from_factors(
    ...     np.ones((1, 1)), [[3.0], [2.0], [1.0]], ["u"], ["a", "b", "c"],
    ...     seen=np.array([[1.0, 0.0, 0.0]]))
    >>> m = per_user_metrics(rec, Interactions.from_arrays(["u"], ["c"]), k=2)
    >>> m.items.tolist(), m.hit.tolist(), m.recall.tolist()
    ([['b', 'c']], [[False, True]], [1.0])
    """
    k = _check_k(k)
    users, items = recommender.users_, recommender.items_
    n_catalog = len(items)
    sides = [("test", test)] + ([] if train is None else [("training", train)])
    for name, part in sides:
        for axis, given, known in (("user", part.users, users), ("item", part.items, items)):
            if given.kind != known.kind:
                raise DataError(
                    f"The {name} {axis} IDs are {given.kind}s but the model's are "
                    f"{known.kind}s, so none would match; convert them to {known.kind}."
                )
    seen_train = _training_matrix(recommender, train)

    coo = test.matrix.tocoo()
    test_user_rows = users.to_index(test.users.ids, missing="negative")
    user_rows = test_user_rows[coo.row].astype(np.int64)
    item_cols = items.to_index(test.items.ids, missing="negative")[coo.col].astype(np.int64)
    known_user = user_rows >= 0
    known_item = known_user & (item_cols >= 0)
    in_train = np.zeros(coo.nnz, dtype=bool)
    if known_item.any():
        t_rows, t_cols = csr_row_entries(
            seen_train.indptr, seen_train.indices, np.arange(len(users), dtype=np.int64)
        )
        train_keys = _keys(t_rows, t_cols, n_catalog)
        in_train[known_item] = np.isin(
            _keys(user_rows[known_item], item_cols[known_item], n_catalog), train_keys
        )
    relevant = known_item & ~in_train
    n_known_test_users = int(np.unique(coo.row[known_user]).size)
    skipped_unknown = int((test_user_rows < 0).sum())

    eval_test_rows = np.unique(coo.row[relevant]).astype(np.int64)  # test order
    n_eval = int(eval_test_rows.size)
    if n_eval == 0:
        raise DataError(
            f"No test user can be evaluated: {skipped_unknown} of {len(test.users)} test users "
            "are unknown to the model and the others have no test item that the model knows "
            "and that is not one of their training items. Check that train and test come "
            "from the same split."
        )
    model_rows = test_user_rows[eval_test_rows]
    position = np.full(len(test.users), -1, dtype=np.int64)
    position[eval_test_rows] = np.arange(n_eval)
    rel_matrix = sp.csr_matrix(
        (
            np.ones(int(relevant.sum()), dtype=np.float32),
            (position[coo.row[relevant]], item_cols[relevant]),
        ),
        shape=(n_eval, n_catalog),
    )
    rel_matrix.sum_duplicates()
    n_relevant = np.diff(rel_matrix.indptr).astype(np.int64)
    train_eval = seen_train[model_rows]
    train_counts = np.diff(train_eval.indptr).astype(np.int64)

    # Ask for enough items that k remain after removing training items the model itself
    # does not exclude (none, when train is what the model was fitted on).
    model_seen = recommender.seen_
    if train is None:
        extra = np.zeros(n_eval, dtype=np.int64)
    elif model_seen is None:
        extra = train_counts
    else:
        seen_eval = sp.csr_matrix(model_seen[model_rows], dtype=np.float32)
        seen_eval.data[:] = 1.0
        overlap = train_eval.multiply(seen_eval).tocsr()
        overlap.eliminate_zeros()
        extra = train_counts - np.diff(overlap.indptr)
    top = np.full((n_eval, k), -1, dtype=np.int64)
    start = 0
    while start < n_eval:
        # Users in blocks, so the fetched lists stay within _FETCH_BLOCK entries.
        n_fetch = max(1, min(k + int(extra[start:].max(initial=0)), n_catalog))
        stop = min(n_eval, start + max(1, _FETCH_BLOCK // n_fetch))
        n_fetch = max(1, min(k + int(extra[start:stop].max(initial=0)), n_catalog))
        remove = train_eval[start:stop] if extra[start:stop].any() else None
        top[start:stop] = _top_k(recommender, model_rows[start:stop], remove, k, n_fetch)
        start = stop
    mask = top >= 0

    r_rows, r_cols = csr_row_entries(
        rel_matrix.indptr, rel_matrix.indices, np.arange(n_eval, dtype=np.int64)
    )
    row_of_top = np.broadcast_to(np.arange(n_eval, dtype=np.int64)[:, None], top.shape)
    hit = mask & np.isin(_keys(row_of_top, top, n_catalog), _keys(r_rows, r_cols, n_catalog))

    popularity = np.bincount(seen_train.indices, minlength=n_catalog)
    pop_rank = rankdata(-popularity, method="average").astype(np.float64)
    slot_rank = np.where(mask, pop_rank[np.maximum(top, 0)], np.nan)

    # Padding as in BatchRecommendations: "" for str IDs, the smallest int64 for int IDs.
    if items.kind == "str":
        item_ids: npt.NDArray[Any] = np.full((n_eval, k), "", dtype=items.ids.dtype)
    else:
        item_ids = np.full((n_eval, k), np.iinfo(np.int64).min, dtype=np.int64)
    item_ids[mask] = items.to_id(top[mask])
    item_ids.flags.writeable = False
    return UserMetrics(
        k=k,
        users=test.users.ids[eval_test_rows],
        items=cast("IdArray", item_ids),
        mask=mask,
        hit=hit,
        n_relevant=n_relevant,
        n_candidates=(n_catalog - train_counts).astype(np.int64),
        item_popularity_rank=slot_rank,
        n_catalog=n_catalog,
        skipped_unknown_users=skipped_unknown,
        skipped_users_without_relevant=n_known_test_users - n_eval,
        dropped_seen_pairs=int(in_train.sum()),
        dropped_unknown_item_pairs=int((known_user & (item_cols < 0)).sum()),
    )


# -- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricEstimate:
    """One metric: its value on the evaluated users and a bootstrap interval.

    ``low`` and ``high`` are ``None`` when no interval was computed (``bootstrap=0``, and
    always for coverage).
    """

    value: float
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """``{"value": ..., "low": ..., "high": ...}``."""
        return {"value": self.value, "low": self.low, "high": self.high}


_LABELS = {
    "precision": "precision",
    "recall": "recall",
    "map": "MAP",
    "ndcg": "NDCG",
    "hit_rate": "hit rate",
    "mrr": "MRR",
    "auc": "AUC",
    "coverage": "coverage",
    "popularity_rank": "popularity rank",
}


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if not np.isfinite(value):
        return "nan"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


def _fmt_ci(est: MetricEstimate) -> str:
    if est.low is None or est.high is None:
        return ""
    return f"[{_fmt(est.low)}, {_fmt(est.high)}]"


@dataclass(frozen=True)
class EvaluationReport:
    """What :func:`evaluate` measured: each metric for the model and for popularity.

    Attributes
    ----------
    k : int
        List length.
    metrics : Mapping[str, MetricEstimate]
        The model's metrics, keyed by the names in :data:`METRICS`.
    baseline : Mapping[str, MetricEstimate] or None
        The popularity baseline on the same split and users (``None`` when not asked).
    n_users : int
        Evaluated users.
    n_items : int
        Items the model knows (the catalog).
    skipped_unknown_users, skipped_users_without_relevant, dropped_seen_pairs, \
dropped_unknown_item_pairs : int
        What could not be evaluated, as in :class:`UserMetrics`.
    bootstrap : int
        Number of bootstrap resamples (0: no intervals).
    confidence_level : float
        Coverage of the intervals (0.95).
    random_state : int or None
        Seed of the resampling.
    """

    k: int
    metrics: Mapping[str, MetricEstimate]
    baseline: Mapping[str, MetricEstimate] | None
    n_users: int
    n_items: int
    skipped_unknown_users: int
    skipped_users_without_relevant: int
    dropped_seen_pairs: int
    dropped_unknown_item_pairs: int
    bootstrap: int
    confidence_level: float = _CONFIDENCE_LEVEL
    random_state: int | None = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts, then ``metrics`` and ``baseline`` by metric name."""
        return {
            "k": self.k,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "skipped_unknown_users": self.skipped_unknown_users,
            "skipped_users_without_relevant": self.skipped_users_without_relevant,
            "dropped_seen_pairs": self.dropped_seen_pairs,
            "dropped_unknown_item_pairs": self.dropped_unknown_item_pairs,
            "bootstrap": self.bootstrap,
            "confidence_level": self.confidence_level,
            "random_state": self.random_state,
            "metrics": {name: est.to_dict() for name, est in self.metrics.items()},
            "baseline": None
            if self.baseline is None
            else {name: est.to_dict() for name, est in self.baseline.items()},
        }

    def __str__(self) -> str:
        level = f"{round(self.confidence_level * 100)}% CI"
        header = ["metric", "model", level]
        if self.baseline is not None:
            header += ["popularity", level]
        rows = [header]
        for name, est in self.metrics.items():
            row = [f"{_LABELS.get(name, name)}@{self.k}", _fmt(est.value), _fmt_ci(est)]
            if self.baseline is not None:
                base = self.baseline[name]
                row += [_fmt(base.value), _fmt_ci(base)]
            rows.append(row)
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        lines = [
            f"Evaluation at k={self.k}: {self.n_users} users, {self.n_items} items in the catalog"
        ]
        counts = (
            ("test users unknown to the model", self.skipped_unknown_users),
            ("users without a scorable test item", self.skipped_users_without_relevant),
            ("test pairs already in training", self.dropped_seen_pairs),
            ("test pairs with unknown items", self.dropped_unknown_item_pairs),
        )
        notes = [f"{what} {count}" for what, count in counts if count]
        if notes:
            lines.append("  not scored: " + ", ".join(notes))
        if self.bootstrap:
            lines.append(
                f"  intervals: percentile bootstrap over users, {self.bootstrap} resamples"
            )
        lines.append("")
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [
                cell.rjust(widths[c]) if c % 2 else cell.ljust(widths[c])
                for c, cell in enumerate(row[1:], 1)
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def _estimates(
    metrics: UserMetrics, counts_blocks: list[npt.NDArray[np.float64]]
) -> dict[str, MetricEstimate]:
    terms = metrics.ratio_terms()
    out: dict[str, MetricEstimate] = {}
    tail = (1.0 - _CONFIDENCE_LEVEL) / 2.0 * 100.0
    for name in METRICS:
        if name == "coverage":
            out[name] = MetricEstimate(float(metrics.coverage))
            continue
        num, den = terms[name]
        total_den = float(den.sum())
        value = float(num.sum()) / total_den if total_den else float("nan")
        if not counts_blocks:
            out[name] = MetricEstimate(value)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            resampled = np.concatenate([(c @ num) / (c @ den) for c in counts_blocks])
        finite = resampled[np.isfinite(resampled)]
        if finite.size == 0:
            out[name] = MetricEstimate(value)
            continue
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        out[name] = MetricEstimate(value, float(low), float(high))
    return out


def _bootstrap_counts(n: int, resamples: int, random_state: int | None) -> list[npt.NDArray[Any]]:
    """How often each user is drawn in each resample, in blocks of resamples."""
    rng = np.random.default_rng(random_state)
    per_block = max(1, _BOOTSTRAP_BLOCK // max(n, 1))
    blocks = []
    for start in range(0, resamples, per_block):
        b = min(per_block, resamples - start)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        blocks.append(np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(float))
    return blocks


def evaluate(
    recommender: Recommender,
    test: Interactions,
    k: int = 10,
    *,
    train: Interactions | None = None,
    bootstrap: int = 1000,
    random_state: int | None = 0,
    baseline: bool = True,
) -> EvaluationReport:
    """Measure a fitted model on held-out interactions, next to the popularity baseline.

    Computes every metric of :data:`METRICS` (defined in the module documentation) at
    ``k`` over the evaluated users, with percentile-bootstrap 95% intervals, and the same
    for a popularity recommender fitted on the same training interactions, on the same
    users, with the same resamples.

    Parameters
    ----------
    recommender : Recommender
        The fitted model.
    test : Interactions
        Held-out interactions, e.g. the second part of :func:`holdout_split`.
    k : int, default 10
        List length.
    train : Interactions, optional
        The training interactions; defaults to what the model was fitted on.
    bootstrap : int, default 1000
        Number of resamples for the intervals; 0 skips them.
    random_state : int or None, default 0
        Seed of the resampling.
    baseline : bool, default True
        Also evaluate the popularity baseline.

    Returns
    -------
    EvaluationReport
        ``str(report)`` is a table; ``report.to_dict()`` is JSON-ready.

    Raises
    ------
    ConfigError
        Bad ``k`` or ``bootstrap``; a model without training interactions and no ``train``.
    DataError
        No test user can be evaluated.

    Examples
    --------
    >>> from alsrec import Interactions, Recommender
    >>> from alsrec.datasets import synthetic
    >>> data = synthetic(n_users=200, n_items=80, random_state=0)
    >>> full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    >>> train, test = holdout_split(full, 0.2, random_state=0)
    >>> rec = Recommender(factors=8, regularization=1.0, iterations=5, random_state=0).fit(train)
    >>> report = evaluate(rec, test, k=10, bootstrap=100)
    >>> report.metrics["ndcg"].value > report.baseline["ndcg"].value
    True
    >>> est = report.metrics["recall"]
    >>> est.low <= est.value <= est.high
    True
    """
    k = _check_k(k)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)):
        raise ConfigError(f"bootstrap must be an integer >= 0, got {bootstrap!r}.")
    if bootstrap < 0:
        raise ConfigError(f"bootstrap must be >= 0, got {bootstrap!r}.")
    model_metrics = per_user_metrics(recommender, test, k, train=train)
    base_metrics: UserMetrics | None = None
    if baseline:
        seen = _training_matrix(recommender, train)
        popular = _popularity_recommender(
            recommender.users_, recommender.items_, seen, recommender.policy
        )
        base_metrics = per_user_metrics(popular, test, k, train=train)
    counts = _bootstrap_counts(len(model_metrics), int(bootstrap), random_state)
    return EvaluationReport(
        k=k,
        metrics=MappingProxyType(_estimates(model_metrics, counts)),
        baseline=None
        if base_metrics is None
        else MappingProxyType(_estimates(base_metrics, counts)),
        n_users=len(model_metrics),
        n_items=model_metrics.n_catalog,
        skipped_unknown_users=model_metrics.skipped_unknown_users,
        skipped_users_without_relevant=model_metrics.skipped_users_without_relevant,
        dropped_seen_pairs=model_metrics.dropped_seen_pairs,
        dropped_unknown_item_pairs=model_metrics.dropped_unknown_item_pairs,
        bootstrap=int(bootstrap),
        random_state=random_state,
    )


# -- the minimal helpers the demo uses -----------------------------------------------------------


def ndcg_at_k(model: RecommendsMany, test: Interactions, k: int = 10) -> float:
    """Mean NDCG@k over the users of ``test`` (binary relevance, log2 discount).

    The ideal DCG of a user counts ``min(k, number of held-out items)`` hits. Unlike
    :func:`evaluate`, every test user counts and nothing beyond what ``model`` excludes
    is removed; it works with anything that has ``recommend_many``.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> base = PopularityBaseline(Interactions.from_arrays([1, 1, 2], ["a", "b", "a"]))
    >>> round(ndcg_at_k(base, Interactions.from_arrays([2], ["b"]), k=1), 3)
    1.0
    """
    k = _check_k(k)
    recs = model.recommend_many(test.users.ids, n=k)
    return float(per_user_ndcg(recs, test, k).mean())


def per_user_ndcg(recs: BatchRecommendations, test: Interactions, k: int) -> FloatArray:
    """NDCG@k of each row of ``recs`` against the items of ``test`` (row order: test users)."""
    matrix = test.matrix
    n_rows, width = recs.ids.shape
    if n_rows != len(test.users):
        raise DataError(f"{n_rows} recommendation rows for {len(test.users)} test users.")
    width = min(width, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    idx = np.full((n_rows, width), -1, dtype=np.int64)
    mask = recs.mask[:, :width]
    if mask.any():
        idx[mask] = test.items.to_index(recs.ids[:, :width][mask], missing="negative")
    rows, cols = csr_row_entries(matrix.indptr, matrix.indices, np.arange(n_rows, dtype=np.int64))
    n_items = max(len(test.items), 1)
    test_keys = rows * n_items + cols
    keys = np.arange(n_rows, dtype=np.int64)[:, None] * n_items + idx
    relevant = (idx >= 0) & np.isin(keys, test_keys)
    dcg = (relevant * discounts[:width]).sum(axis=1)
    n_relevant = np.minimum(np.diff(matrix.indptr), k)
    ideal = np.where(n_relevant > 0, np.cumsum(discounts)[np.maximum(n_relevant, 1) - 1], 1.0)
    return np.where(n_relevant > 0, dcg / ideal, 0.0).astype(np.float32)


@dataclass(frozen=True, eq=False)
class PopularityBaseline:
    """Recommends the items with the most training users, excluding each user's own.

    Items with equal counts are ordered by their first appearance in ``train``. Unknown
    users get the most popular items. Scores are only an order (higher is more popular).

    Parameters
    ----------
    train : Interactions
        The training data.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> base = PopularityBaseline(Interactions.from_arrays([1, 2, 2, 3], ["a", "b", "c", "b"]))
    >>> base.recommend_many([1, 9], n=2).ids.tolist()
    [['b', 'c'], ['b', 'a']]
    """

    train: Interactions

    def recommend_many(self, user_ids: IdLike, n: int = 10) -> BatchRecommendations:
        """Top-``n`` popular items per user, the user's training items excluded."""
        seen = sp.csr_matrix(self.train.matrix, dtype=np.float32, copy=True)
        seen.data[:] = 1.0
        rec = _popularity_recommender(self.train.users, self.train.items, seen, "safe")
        return rec.recommend_many(user_ids, n=n)
