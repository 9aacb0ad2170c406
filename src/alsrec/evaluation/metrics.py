"""Ranking metrics at ``k``: per-user lists and hits, and the one NDCG definition.

The definitions, and which users count, are in :mod:`alsrec.evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec.data.interactions import Interactions
from alsrec.exceptions import ConfigError, DataError
from alsrec.logs import warn
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from typing import TypeAlias

    from alsrec.evaluation.baselines import PopularityBaseline
    from alsrec.recommender import Recommender

    Ranker: TypeAlias = "Recommender | PopularityBaseline"
    """What :func:`per_user_metrics` and :func:`~alsrec.evaluation.evaluate` score."""
    from alsrec.results import BatchRecommendations
    from alsrec.types import IdArray, IndexArray

__all__ = [
    "METRICS",
    "RecommendsMany",
    "UserMetrics",
    "ndcg_at_k",
    "ndcg_from_hits",
    "per_user_metrics",
    "per_user_ndcg",
]

METRICS: tuple[str, ...] = (
    "precision",
    "recall",
    "capped_recall",
    "map",
    "ndcg",
    "hit_rate",
    "mrr",
    "auc",
    "coverage",
    "popularity_rank",
)
"""Names of the metrics :func:`~alsrec.evaluation.evaluate` reports, in report order."""

_FETCH_BLOCK = 1 << 22
"""Recommendation slots (users x fetched items) requested at once."""


class RecommendsMany(Protocol):
    """Anything that can rank items for many users (a Recommender, a baseline, ...)."""

    def recommend_many(self, user_ids: IdArray, n: int = ...) -> BatchRecommendations:
        """Top-``n`` items per user, seen items excluded."""
        ...


def ndcg_from_hits(
    hit: npt.NDArray[np.bool_], n_relevant: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float64]:
    """The one NDCG@k of alsrec, per user: ``DCG_u / IDCG_u``.

    ``DCG_u = sum_j h_j / log2(j + 1)`` over the list's ranks ``j`` (1-based, at most
    ``k``), binary gains; ``IDCG_u`` is the DCG of ``min(k, n_u)`` hits at the top. A user
    with ``n_u = 0`` scores 0. Both :func:`evaluate` (through :attr:`UserMetrics.ndcg`)
    and :func:`ndcg_at_k` use it; they differ only in which users and items they pass.

    Examples
    --------
    >>> import numpy as np
    >>> ndcg_from_hits(np.array([[False, True]]), np.array([1]), k=2).round(4).tolist()
    [0.6309]
    """
    width = hit.shape[1]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hit[:, :k] * discounts[: min(width, k)]).sum(axis=1)
    n_ideal = np.minimum(n_relevant, k)
    ideal = np.where(n_ideal > 0, np.cumsum(discounts)[np.maximum(n_ideal, 1) - 1], 1.0)
    return cast("npt.NDArray[np.float64]", np.where(n_ideal > 0, dcg / ideal, 0.0))


def stored_entries(matrix: sp.csr_matrix) -> tuple[IndexArray, IndexArray]:
    """``(row, column)`` of every stored entry of a CSR matrix, in storage order."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows, np.asarray(matrix.indices, dtype=np.int64)


def check_k(k: object) -> int:
    """Validate a cutoff ``k`` (an integer >= 1) and return it as an ``int``."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or int(k) < 1:
        raise ConfigError(f"k must be an integer >= 1, got {k!r}.")
    return int(k)


def check_arguments(call: str, model: object, test: object, model_name: str = "model") -> None:
    """Refuse a ``model`` or ``test`` of the wrong kind with :class:`~alsrec.ConfigError`,
    in the words of ``call`` (the function's name), a swap of the two included."""
    if not callable(getattr(model, "recommend_many", None)):
        swapped = callable(getattr(test, "recommend_many", None))
        raise ConfigError(
            f"{call}({model_name}, test, ...): {model_name} must be a fitted model (anything "
            f"with recommend_many: a Recommender, a PopularityBaseline); got "
            f"{type(model).__name__}." + (" The two arguments look swapped." if swapped else "")
        )
    if not isinstance(test, Interactions):
        raise ConfigError(
            f"{call}({model_name}, test, ...): test must be an Interactions (e.g. the second "
            f"part of holdout_split(data)); got {type(test).__name__}."
        )


def _seen_share(model: object, test: Interactions) -> float:
    """The share of ``test``'s pairs that ``model`` (a fitted :class:`~alsrec.Recommender`)
    trained on, among those whose user and item it knows; 0 for other models."""
    seen = getattr(model, "seen_", None)
    users, items = getattr(model, "users_", None), getattr(model, "items_", None)
    if seen is None or users is None or items is None or test.nnz == 0:
        return 0.0
    coo = test.matrix.tocoo()
    rows = users.to_index(test.users.ids, missing="negative")[coo.row].astype(np.int64)
    cols = items.to_index(test.items.ids, missing="negative")[coo.col].astype(np.int64)
    known = (rows >= 0) & (cols >= 0)
    if not known.any():
        return 0.0
    # scipy looks each pair up in its row (no sort of the training pairs)
    hits = np.asarray(sp.csr_matrix(seen)[rows[known], cols[known]]).ravel() != 0
    return float(hits.mean())


def warn_if_trained_on(model: object, test: Interactions, what: str = "") -> None:
    """Warn (pointing at the caller outside alsrec) when most of ``test``'s pairs are
    training interactions of ``model``: its recommendations leave them out, so every
    metric scores them 0. ``what`` ends the message (e.g. how ``train=`` relates)."""
    share = _seen_share(model, test)
    if share > 0.5:
        warn(
            f"{share:.0%} of the test pairs are training interactions of the model, which its "
            "recommendations leave out (exclude_seen), so they score 0. Evaluate on held-out "
            "interactions: train, test = holdout_split(data), fit on train, score on test." + what,
            stacklevel=None,
        )


def training_matrix(recommender: Ranker, train: Interactions | None) -> sp.csr_matrix:
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


def popularity_ranks(popularity: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Each item's rank by popularity, 1 for the most popular; tied items share the mean
    of the ranks they span.

    Examples
    --------
    >>> popularity_ranks(np.array([5, 9, 5, 0]))
    array([2.5, 1. , 2.5, 4. ])
    """
    _, position, counts = np.unique(popularity, return_inverse=True, return_counts=True)
    at_or_below = np.cumsum(counts)  # items at most as popular as each value
    above = popularity.size - at_or_below
    return (above + (counts + 1) / 2.0)[position.ravel()].astype(np.float64)


def pair_keys(rows: IndexArray, cols: IndexArray, width: int) -> IndexArray:
    """One ``int64`` key per ``(row, column)`` pair of a matrix ``width`` columns wide."""
    return rows * max(width, 1) + cols


def is_member(keys: IndexArray, reference: IndexArray) -> npt.NDArray[np.bool_]:
    """Whether each of ``keys`` (any shape) is in ``reference``, as ``numpy.isin``, by
    binary search in the sorted ``reference``.

    numpy's ``isin`` sorts the two arrays together: for the test pairs of a 20,000-user
    evaluation (60,000 keys against 240,000 training pairs) it took 0.22 s, this 0.02 s.
    """
    ordered = np.sort(reference, axis=None)
    if ordered.size == 0:
        return np.zeros(np.shape(keys), dtype=bool)
    at = np.searchsorted(ordered, keys)
    np.minimum(at, ordered.size - 1, out=at)
    return np.asarray(ordered[at] == keys, dtype=bool)


def _top_k(
    recommender: Ranker,
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
        t_rows, t_cols = stored_entries(remove)
        row_of = np.broadcast_to(np.arange(n_users, dtype=np.int64)[:, None], pos.shape)
        width = len(items)
        drop = (pos >= 0) & is_member(
            pair_keys(row_of, pos, width), pair_keys(t_rows, t_cols, width)
        )
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
    def capped_recall(self) -> npt.NDArray[np.float64]:
        """``H_u / min(k, n_u)``: the Recall@k of Liang et al. (2018), 1 for a full list."""
        return self.hits / np.minimum(self.k, self.n_relevant).astype(np.float64)

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
        return ndcg_from_hits(self.hit, self.n_relevant, self.k)

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

    def truncated(self, k: int) -> UserMetrics:
        """The same users' metrics at a shorter list length: each list's first ``k`` slots.

        A list's first ``k`` items are its top-``k`` list, so one ranking at the largest
        ``k`` gives the metrics at every smaller one.

        Examples
        --------
        >>> import numpy as np
        >>> from alsrec import Interactions, Recommender
        >>> rec = Recommender.from_factors(
        ...     np.ones((1, 1)), [[3.0], [2.0], [1.0]], ["u"], ["a", "b", "c"],
        ...     seen=np.array([[1.0, 0.0, 0.0]]))
        >>> m = per_user_metrics(rec, Interactions.from_arrays(["u"], ["c"]), k=2)
        >>> m.truncated(1).items.tolist(), m.truncated(1).recall.tolist()
        ([['b']], [0.0])
        """
        k = check_k(k)
        if k > self.k:
            raise ConfigError(f"k={k} is longer than these lists (k={self.k}); rank again.")
        return replace(
            self,
            k=k,
            items=self.items[:, :k],
            mask=self.mask[:, :k],
            hit=self.hit[:, :k],
            item_popularity_rank=self.item_popularity_rank[:, :k],
        )

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
            "capped_recall": (self.capped_recall, ones),
            "map": (self.map, ones),
            "ndcg": (self.ndcg, ones),
            "hit_rate": (self.hit_rate, ones),
            "mrr": (self.mrr, ones),
            "auc": (self.auc, ones),
            "popularity_rank": (ranks, self.mask.sum(axis=1).astype(np.float64)),
        }


def check_id_kinds(recommender: Ranker, sides: list[tuple[str, Interactions | None]]) -> None:
    """IDs of each named part must be of the model's kind (int or str), or none would match."""
    models = {"user": recommender.users_, "item": recommender.items_}
    for name, part in sides:
        if part is None:
            continue
        for axis, given in (("user", part.users), ("item", part.items)):
            known = models[axis]
            if given.kind != known.kind:
                raise DataError(
                    f"The {name} {axis} IDs are {given.kind}s but the model's are "
                    f"{known.kind}s, so none would match; convert them to {known.kind}."
                )


def _fetch_lists(
    recommender: Ranker,
    model_rows: IndexArray,
    train_eval: sp.csr_matrix,
    fitted_on_train: bool,
    k: int,
) -> IndexArray:
    """Each user's top ``k`` item indices without training items, ``-1`` padded.

    Asks for enough items that ``k`` remain after removing training items the model
    itself does not exclude (none, when ``train`` is what the model was fitted on).
    """
    n_eval = int(model_rows.size)
    n_catalog = len(recommender.items_)
    train_counts = np.diff(train_eval.indptr).astype(np.int64)
    model_seen = recommender.seen_
    if fitted_on_train:
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
    return top


def _padded_ids(items: IdMapper, top: IndexArray, mask: npt.NDArray[np.bool_]) -> IdArray:
    """Item IDs of the lists, padded as in BatchRecommendations ("" or the smallest int64)."""
    if items.kind == "str":
        item_ids: npt.NDArray[Any] = np.full(top.shape, "", dtype=items.ids.dtype)
    else:
        item_ids = np.full(top.shape, np.iinfo(np.int64).min, dtype=np.int64)
    item_ids[mask] = items.to_id(top[mask])
    item_ids.flags.writeable = False
    return cast("IdArray", item_ids)


def per_user_metrics(
    recommender: Ranker,
    test: Interactions,
    k: int = 10,
    *,
    train: Interactions | None = None,
) -> UserMetrics:
    """Compute each evaluated user's top-``k`` list and its hits (see the module doc).

    Parameters
    ----------
    recommender : Recommender or PopularityBaseline
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
    check_arguments("per_user_metrics", recommender, test, "recommender")
    k = check_k(k)
    users, items = recommender.users_, recommender.items_
    n_catalog = len(items)
    check_id_kinds(recommender, [("test", test), ("training", train)])
    seen_train = training_matrix(recommender, train)

    coo = test.matrix.tocoo()
    test_user_rows = users.to_index(test.users.ids, missing="negative")
    user_rows = test_user_rows[coo.row].astype(np.int64)
    item_cols = items.to_index(test.items.ids, missing="negative")[coo.col].astype(np.int64)
    known_user = user_rows >= 0
    known_item = known_user & (item_cols >= 0)
    in_train = np.zeros(coo.nnz, dtype=bool)
    if known_item.any():
        t_rows, t_cols = stored_entries(seen_train)
        train_keys = pair_keys(t_rows, t_cols, n_catalog)
        in_train[known_item] = is_member(
            pair_keys(user_rows[known_item], item_cols[known_item], n_catalog), train_keys
        )
    relevant = known_item & ~in_train
    n_known_test_users = int((test_user_rows >= 0).sum())  # empty rows included
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
    train_eval = seen_train[model_rows]
    train_counts = np.diff(train_eval.indptr).astype(np.int64)

    top = _fetch_lists(recommender, model_rows, train_eval, train is None, k)
    return assemble_metrics(
        k,
        test.users.ids[eval_test_rows],
        items,
        top,
        rel_matrix,
        train_counts,
        np.bincount(seen_train.indices, minlength=n_catalog),
        skipped_unknown_users=skipped_unknown,
        skipped_users_without_relevant=n_known_test_users - n_eval,
        dropped_seen_pairs=int(in_train.sum()),
        dropped_unknown_item_pairs=int((known_user & (item_cols < 0)).sum()),
    )


def assemble_metrics(
    k: int,
    users: IdArray,
    items: IdMapper,
    top: IndexArray,
    relevant: sp.csr_matrix,
    n_excluded: IndexArray,
    popularity: npt.NDArray[np.int64],
    *,
    skipped_unknown_users: int,
    skipped_users_without_relevant: int,
    dropped_seen_pairs: int,
    dropped_unknown_item_pairs: int,
) -> UserMetrics:
    """:class:`UserMetrics` from each user's ranked item indices (``top``, ``-1`` padded).

    ``relevant`` holds each user's relevant items (users x catalog, in ``top``'s row
    order), ``n_excluded`` how many catalog items were excluded from the user's list, and
    ``popularity`` each item's number of training users. Shared by every protocol.
    """
    n_users, n_catalog = relevant.shape
    mask = top >= 0
    r_rows, r_cols = stored_entries(relevant)
    row_of_top = np.broadcast_to(np.arange(n_users, dtype=np.int64)[:, None], top.shape)
    hit = mask & is_member(
        pair_keys(row_of_top, top, n_catalog), pair_keys(r_rows, r_cols, n_catalog)
    )
    pop_rank = popularity_ranks(popularity)
    slot_rank = np.where(mask, pop_rank[np.maximum(top, 0)], np.nan)
    return UserMetrics(
        k=k,
        users=users,
        items=_padded_ids(items, top, mask),
        mask=mask,
        hit=hit,
        n_relevant=np.diff(relevant.indptr).astype(np.int64),
        n_candidates=(n_catalog - n_excluded).astype(np.int64),
        item_popularity_rank=slot_rank,
        n_catalog=n_catalog,
        skipped_unknown_users=skipped_unknown_users,
        skipped_users_without_relevant=skipped_users_without_relevant,
        dropped_seen_pairs=dropped_seen_pairs,
        dropped_unknown_item_pairs=dropped_unknown_item_pairs,
    )


def ndcg_at_k(model: RecommendsMany, test: Interactions, k: int = 10) -> float:
    """Mean NDCG@k over **every** user of ``test`` (the one NDCG of :func:`ndcg_from_hits`).

    Same per-user value as ``evaluate(...).metrics["ndcg"]``; only who counts differs
    (see "Which users count" in :mod:`alsrec.evaluation`): here every test user counts,
    unknown users with whatever ``model`` answers for them (a fallback list), and a
    user's relevant items are all their test items, training items included. It works
    with anything that has ``recommend_many`` (a baseline, a Spark model).

    Examples
    --------
    >>> from alsrec import Interactions
    >>> from alsrec.evaluation import PopularityBaseline
    >>> base = PopularityBaseline(Interactions.from_arrays([1, 1, 2], ["a", "b", "a"]))
    >>> round(ndcg_at_k(base, Interactions.from_arrays([2], ["b"]), k=1), 3)
    1.0
    """
    check_arguments("ndcg_at_k", model, test)
    k = check_k(k)
    mappers = (getattr(model, "users_", None), getattr(model, "items_", None))
    if all(isinstance(m, IdMapper) for m in mappers):  # as evaluate: int and str never match
        check_id_kinds(cast("Ranker", model), [("test", test)])
    warn_if_trained_on(model, test)
    recs = model.recommend_many(test.users.ids, n=k)
    # a test user with no test item (an empty row, e.g. from_scipy of a same-shape test
    # matrix) has no NDCG: left out, as evaluate leaves it out
    has_items = np.diff(test.matrix.indptr) > 0
    if not has_items.any():
        raise DataError("ndcg_at_k: test holds no interaction; there is nothing to score.")
    return float(per_user_ndcg(recs, test, k)[has_items].mean())


def per_user_ndcg(
    recs: BatchRecommendations, test: Interactions, k: int
) -> npt.NDArray[np.float64]:
    """NDCG@k of each row of ``recs`` against the items of ``test`` (row order: test users),
    in ``float64``.

    Computed by :func:`ndcg_from_hits`; every test item of the user is relevant. A test user
    with no test item (an empty row) gets 0; :func:`ndcg_at_k` leaves such users out.
    """
    matrix = test.matrix
    n_rows, width = recs.ids.shape
    if n_rows != len(test.users):
        raise DataError(f"{n_rows} recommendation rows for {len(test.users)} test users.")
    width = min(width, k)
    idx = np.full((n_rows, width), -1, dtype=np.int64)
    mask = recs.mask[:, :width]
    if mask.any():
        idx[mask] = test.items.to_index(recs.ids[:, :width][mask], missing="negative")
    rows, cols = stored_entries(matrix)
    n_items = max(len(test.items), 1)
    test_keys = rows * n_items + cols
    keys = np.arange(n_rows, dtype=np.int64)[:, None] * n_items + idx
    relevant = (idx >= 0) & is_member(keys, test_keys)
    n_relevant = np.diff(matrix.indptr).astype(np.int64)
    return ndcg_from_hits(relevant, n_relevant, k).astype(np.float64)
