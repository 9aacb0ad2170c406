"""Baselines to compare a model with: recommending the most popular items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import scipy.sparse as sp

from alsrec.data.interactions import require_interactions
from alsrec.recommender import Recommender

if TYPE_CHECKING:
    from alsrec.data.interactions import Interactions
    from alsrec.mapping import IdMapper
    from alsrec.results import BatchRecommendations
    from alsrec.types import IdLike

__all__ = ["PopularityBaseline", "popularity_recommender"]


def popularity_recommender(
    users: IdMapper,
    items: IdMapper,
    seen: sp.csr_matrix,
    policy: Literal["safe", "strict"],
    counts_from: sp.csr_matrix | None = None,
) -> Recommender:
    """Rank-1 factors whose dot products order items by number of training users.

    ``seen`` is the binary matrix of the items each user has (``users`` x ``items``),
    excluded from their lists; the training users of ``counts_from`` (default ``seen``)
    order the items. Each item's factor is ``n_items - position`` in the order (most
    training users first, then lower index), so no two items tie and the order never
    depends on how a top-k routine breaks ties. (Exact in float32 up to 2**24 items.)
    """
    counted = seen if counts_from is None else counts_from
    counts = np.bincount(counted.indices, minlength=counted.shape[1])
    order = np.lexsort((np.arange(counts.size), -counts))
    strength = np.empty(counts.size, dtype=np.float32)
    strength[order] = np.arange(counts.size, 0, -1, dtype=np.float32)
    user_factors = np.ones((len(users), 1), dtype=np.float32)
    return Recommender.from_factors(
        user_factors, strength[:, None], users, items, seen=seen, policy=policy,
        backend_name="popularity",
    )  # fmt: skip


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
    policy: ClassVar[Literal["safe"]] = "safe"
    """Unknown users get the most popular items (as a :class:`Recommender`'s ``"safe"``)."""

    def __post_init__(self) -> None:
        require_interactions(self.train, "train", "PopularityBaseline")

    @property
    def users_(self) -> IdMapper:
        """The training users (as :attr:`Recommender.users_`): metrics check test IDs
        against their type."""
        return self.train.users

    @property
    def items_(self) -> IdMapper:
        """The training items (as :attr:`Recommender.items_`)."""
        return self.train.items

    @property
    def seen_(self) -> sp.csr_matrix:
        """The training pairs, users x items, each 1.0 (as :attr:`Recommender.seen_`: the
        items each user's lists leave out); a fresh matrix on each access."""
        seen = sp.csr_matrix(self.train.matrix, dtype=np.float32, copy=True)
        seen.data[:] = 1.0
        return seen

    def recommend_many(self, user_ids: IdLike, n: int = 10) -> BatchRecommendations:
        """Top-``n`` popular items per user, the user's training items excluded."""
        rec = popularity_recommender(self.train.users, self.train.items, self.seen_, "safe")
        return rec.recommend_many(user_ids, n=n)
