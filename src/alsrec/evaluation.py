"""Held-out splits, ranking metrics, and the popularity baseline.

Metrics are computed on external IDs: a test pair counts as a hit when the recommended ID
equals the held-out ID, whatever indices either model uses internally. Training items are
excluded from recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from alsrec._scoring import csr_row_entries
from alsrec.exceptions import ConfigError, DataError
from alsrec.interactions import Interactions

if TYPE_CHECKING:
    from alsrec.results import BatchRecommendations
    from alsrec.types import FloatArray, IdArray

__all__ = [
    "PopularityBaseline",
    "RecommendsMany",
    "holdout_split",
    "ndcg_at_k",
]


class RecommendsMany(Protocol):
    """Anything that can rank items for many users (a Recommender, a baseline, ...)."""

    def recommend_many(self, user_ids: IdArray, n: int = ...) -> BatchRecommendations:
        """Top-``n`` items per user, seen items excluded."""
        ...


def holdout_split(
    data: Interactions, test_fraction: float = 0.2, *, random_state: int = 0
) -> tuple[Interactions, Interactions]:
    """Hold out a random fraction of each user's distinct items.

    Every user with at least two items keeps at least one in training and gives at least
    one to the test set (rounded from ``test_fraction``); users with a single item stay in
    training only. Seeded and reproducible.

    Returns
    -------
    (train, test) : tuple of Interactions

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 1, 1, 2], [1, 2, 3, 4, 1])
    >>> train, test = holdout_split(data, 0.25, random_state=0)
    >>> train.nnz, test.nnz
    (4, 1)
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}.")
    matrix = data.matrix.tocsr()
    lengths = np.diff(matrix.indptr)
    rng = np.random.default_rng(random_state)
    keys = rng.random(matrix.nnz)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    # Rank each user's entries by a random key; the lowest ranks go to the test set.
    order = np.lexsort((keys, rows))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], lengths)
    n_test = np.where(
        lengths >= 2, np.clip(np.rint(lengths * test_fraction), 1, lengths - 1), 0
    ).astype(np.int64)
    is_test = rank < n_test[rows]
    if not is_test.any():
        raise DataError("No user has two or more items, so nothing can be held out.")
    cols = matrix.indices.astype(np.int64)
    weights = matrix.data.astype(np.float32)

    def part(mask: np.ndarray) -> Interactions:
        return Interactions.from_arrays(
            data.users.ids[rows[mask]], data.items.ids[cols[mask]], weights[mask]
        )

    return part(~is_test), part(is_test)


def ndcg_at_k(model: RecommendsMany, test: Interactions, k: int = 10) -> float:
    """Mean NDCG@k over the users of ``test`` (binary relevance, log2 discount).

    The ideal DCG of a user counts ``min(k, number of held-out items)`` hits.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> base = PopularityBaseline(Interactions.from_arrays([1, 1, 2], ["a", "b", "a"]))
    >>> round(ndcg_at_k(base, Interactions.from_arrays([2], ["b"]), k=1), 3)
    1.0
    """
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k!r}.")
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

    Parameters
    ----------
    train : Interactions
        The training data.
    """

    train: Interactions

    def recommend_many(self, user_ids: IdArray, n: int = 10) -> BatchRecommendations:
        """Top-``n`` popular items per user, the user's training items excluded."""
        from alsrec.recommender import Recommender

        matrix = self.train.matrix
        counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float32)
        # Rank-1 factors whose dot product orders items by popularity.
        users = np.ones((matrix.shape[0], 1), dtype=np.float32)
        items = (counts / max(float(counts.max()), 1.0))[:, None]
        rec = Recommender.from_factors(
            users,
            items,
            self.train.users,
            self.train.items,
            seen=matrix,
            backend_name="popularity",
        )
        return rec.recommend_many(user_ids, n=n)
