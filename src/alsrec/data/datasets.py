"""Synthetic interaction data with known structure, and the MovieLens ratings loader.

The generator plants taste clusters: every user and every item belongs to one cluster,
and users mostly pick items of their own cluster, by power-law popularity. A good
recommender therefore ranks a user's own-cluster items above popular items from other
clusters, which makes recommendation quality checkable without real data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from alsrec.checks import check_bool, check_int
from alsrec.data.interactions import Interactions
from alsrec.exceptions import ConfigError, DataError

if TYPE_CHECKING:
    import os

    from alsrec.data.rows import BadRows
    from alsrec.types import FloatArray, IdArray, IndexArray

__all__ = ["SyntheticData", "demo_data", "movielens_ratings", "synthetic"]


@dataclass(frozen=True, eq=False)
class SyntheticData:
    """Columns of generated interactions plus the planted ground truth.

    Attributes
    ----------
    user_ids, item_ids : numpy.ndarray of str
        One entry per interaction row (pairs may repeat; alsrec sums duplicates).
    weights : numpy.ndarray of float32
        Interaction strength (a count of views, >= 1).
    timestamps : numpy.ndarray of int64
        Seconds since the epoch, increasing with each user's activity.
    user_clusters, item_clusters : numpy.ndarray of int64
        Planted cluster of each distinct user (``U000000`` is index 0) and item.
    """

    user_ids: IdArray
    item_ids: IdArray
    weights: FloatArray
    timestamps: npt.NDArray[np.int64]
    user_clusters: IndexArray
    item_clusters: IndexArray

    def __len__(self) -> int:
        return int(self.user_ids.size)

    def __repr__(self) -> str:  # the arrays in full ran to tens of thousands of characters
        return (
            f"SyntheticData({len(self)} rows: {self.user_clusters.size} users x "
            f"{self.item_clusters.size} items, {np.unique(self.item_clusters).size} clusters)"
        )

    def to_interactions(self) -> Interactions:
        """The rows as :class:`~alsrec.Interactions`, weights and timestamps included
        (duplicate pairs summed, the latest timestamp kept).

        Examples
        --------
        >>> data = synthetic(n_users=50, n_items=20, n_clusters=2, random_state=1)
        >>> data
        SyntheticData(... rows: 50 users x 20 items, 2 clusters)
        >>> data.to_interactions().shape
        (50, 20)
        """
        return Interactions.from_arrays(
            self.user_ids, self.item_ids, self.weights, timestamps=self.timestamps
        )


def _check(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _check_real(name: str, value: object, low: float, high: float) -> None:
    number = (
        float(value)
        if isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
        else math.nan
    )
    if not (low <= number <= high and math.isfinite(number)):
        upper = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g} (finite)"
        raise ConfigError(f"{name} must be a number {upper}, got {value!r}.")


def synthetic(
    n_users: int = 2000,
    n_items: int = 500,
    *,
    n_clusters: int = 10,
    mean_interactions: float = 20.0,
    in_cluster: float = 0.8,
    popularity_exponent: float = 1.0,
    random_state: int = 0,
) -> SyntheticData:
    """Generate seeded implicit-feedback data with planted taste clusters.

    Parameters
    ----------
    n_users, n_items : int
        Number of distinct users and items (every user has at least 2 interactions;
        items that nobody picked do not appear in the rows).
    n_clusters : int
        Number of taste clusters (1 .. n_items).
    mean_interactions : float
        Mean interaction rows per user (log-normally spread, capped at ``n_items // 2``).
    in_cluster : float
        Probability that an interaction is drawn from the user's own cluster; the rest
        are drawn from the whole catalog by popularity.
    popularity_exponent : float
        Zipf exponent of item popularity (0 = uniform).
    random_state : int
        Seed; equal arguments give identical data.

    Examples
    --------
    >>> from alsrec.data import synthetic
    >>> data = synthetic(n_users=50, n_items=20, n_clusters=2, random_state=1)
    >>> len(data) > 100, str(data.user_ids[0]), data.weights.dtype
    (True, 'U000000', dtype('float32'))
    """
    _check("n_users", n_users, 1)
    _check("n_items", n_items, 2)
    _check("n_clusters", n_clusters, 1)
    if n_clusters > n_items:
        raise ConfigError(f"n_clusters ({n_clusters}) cannot exceed n_items ({n_items}).")
    _check_real("in_cluster", in_cluster, 0.0, 1.0)
    _check_real("mean_interactions", mean_interactions, 2.0, float("inf"))
    _check_real("popularity_exponent", popularity_exponent, 0.0, 10.0)
    rng = np.random.default_rng(check_int("random_state", random_state, 0))
    item_clusters = rng.permutation(np.arange(n_items) % n_clusters).astype(np.int64)
    user_clusters = rng.integers(0, n_clusters, n_users).astype(np.int64)
    rank = rng.permutation(n_items) + 1
    popularity = 1.0 / rank.astype(np.float64) ** popularity_exponent

    cap = max(2, n_items // 2)
    counts = np.exp(rng.normal(np.log(mean_interactions) - 0.245, 0.7, n_users))
    counts = np.clip(np.rint(counts), 2, cap).astype(np.int64)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    total = rows.size

    # Global popularity CDF and one CDF per cluster (items sorted by cluster).
    global_cdf = np.cumsum(popularity / popularity.sum())
    by_cluster = np.argsort(item_clusters, kind="stable")
    cluster_pop = popularity[by_cluster]
    cluster_start = np.searchsorted(item_clusters[by_cluster], np.arange(n_clusters + 1))
    cluster_mass = np.add.reduceat(cluster_pop, cluster_start[:-1])
    within = np.cumsum(cluster_pop)
    before = within[cluster_start[:-1]] - cluster_pop[cluster_start[:-1]]
    within -= np.repeat(before, np.diff(cluster_start))
    within_cdf = within / np.repeat(cluster_mass, np.diff(cluster_start))

    own = rng.random(total) < in_cluster
    draws = rng.random(total)
    items = np.empty(total, dtype=np.int64)
    glob = ~own
    items[glob] = np.minimum(np.searchsorted(global_cdf, draws[glob]), n_items - 1)
    cl = user_clusters[rows[own]]
    lo = cluster_start[cl]
    hi = cluster_start[cl + 1]
    # Search each draw inside its cluster's slice of the concatenated CDFs.
    offset = cl.astype(np.float64) * 2.0
    shifted = within_cdf + np.repeat(np.arange(n_clusters) * 2.0, np.diff(cluster_start))
    pos = np.searchsorted(shifted, draws[own] + offset)
    pos = np.clip(pos, lo, hi - 1)
    items[own] = by_cluster[pos]

    weights = (1 + rng.poisson(1.0, total)).astype(np.float32)
    step = rng.integers(60, 86_400, total)
    start = np.repeat(rng.integers(1_600_000_000, 1_650_000_000, n_users), counts)
    cum = np.cumsum(step)
    user_start = np.cumsum(counts) - counts
    within_user = cum - np.repeat(cum[user_start] - step[user_start], counts)
    timestamps = (start + within_user).astype(np.int64)

    user_names = np.char.add("U", np.char.zfill(np.arange(n_users).astype(str), 6))
    item_names = np.char.add("I", np.char.zfill(np.arange(n_items).astype(str), 6))
    return SyntheticData(
        user_ids=user_names[rows],
        item_ids=item_names[items],
        weights=weights,
        timestamps=timestamps,
        user_clusters=user_clusters,
        item_clusters=item_clusters,
    )


def demo_data() -> SyntheticData:
    """The embedded dataset of ``alsrec demo``: 3,000 users, 600 items, 12 clusters.

    It is generated from a fixed seed, so it is identical on every machine.

    Examples
    --------
    >>> data = demo_data()
    >>> len(set(data.user_ids.tolist())), len(data) > 40_000
    (3000, True)
    """
    return synthetic(
        n_users=3000, n_items=600, n_clusters=12, mean_interactions=20.0, random_state=2026
    )


def movielens_ratings(
    path: str | os.PathLike[str],
    *,
    min_rating: float = 4.0,
    min_user_interactions: int = 5,
    binary: bool = True,
    user: str | int = "userId",
    item: str | int = "movieId",
    rating: str | int = "rating",
    delimiter: str | None = ",",
    header: bool = True,
    on_bad_rows: BadRows = "raise",
) -> Interactions:
    """Read a MovieLens ratings file as implicit feedback, as Liang et al. (2018) prepare it.

    The file (e.g. MovieLens-20M's ``ratings.csv``: ``userId,movieId,rating,timestamp``)
    is read by :meth:`Interactions.from_csv`; ratings of at least ``min_rating`` become
    positive interactions (Liang et al. keep ratings above 3.5, i.e. ``>= 4`` on the
    half-star scale), then users with fewer than ``min_user_interactions`` of them are
    dropped (Liang et al.: 5; items are not filtered). alsrec does not ship the data:
    download it from GroupLens and pass its path. For other layouts name the columns and
    the delimiter: a RecBole ``.inter`` file by its header names, MovieLens-100k's
    ``u.data`` (no header row) by position, ``header=False, user=0, item=1, rating=2,
    delimiter="\\t"``.

    Parameters
    ----------
    path : str or path-like
        The ratings file.
    min_rating : float, default 4.0
        The lowest rating kept (> 0).
    min_user_interactions : int, default 5
        Users with fewer kept ratings are dropped (applied after ``min_rating``).
    binary : bool, default True
        Weigh every kept rating 1.0 (``False``: the rating is the weight).
    user, item, rating : str or int
        Column names, or 0-based positions (with ``header=False``).
    delimiter : str or None, default ","
        As in :meth:`Interactions.from_csv` (``None`` guesses it).
    header : bool, default True
        Whether the first line names the columns (``False``: it is a rating too).
    on_bad_rows : {"raise", "skip"}, default "raise"
        As in :meth:`Interactions.from_csv`: ``"skip"`` drops rows with a missing ID or a
        rating that is missing, not a number or not positive (MovieLens has none).

    Returns
    -------
    Interactions

    Raises
    ------
    ConfigError
        ``min_rating`` not a positive number, or a bad ``min_user_interactions``.
    DataError
        An unreadable file (see :meth:`Interactions.from_csv`), or no rating left after
        the filters.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ratings.csv"
    >>> rows = ["userId,movieId,rating,timestamp"]
    >>> rows += [f"1,{m},{4.0 + m % 2 / 2},0" for m in range(6)] + ["2,1,5.0,0", "1,9,3.5,0"]
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> data = movielens_ratings(path)
    >>> data.users.ids.tolist(), data.nnz, sorted(set(data.matrix.data.tolist()))
    ([1], 6, [1.0])
    >>> movielens_ratings(path, min_user_interactions=1).users.ids.tolist()
    [1, 2]
    """
    if (
        isinstance(min_rating, bool)
        or not isinstance(min_rating, (int, float, np.integer, np.floating))
        or not np.isfinite(min_rating)
        or min_rating <= 0
    ):
        raise ConfigError(f"min_rating must be a number > 0, got {min_rating!r}.")
    _check("min_user_interactions", min_user_interactions, 1)
    binary = check_bool("binary", binary)
    raw = Interactions.from_csv(
        path,
        user=user,
        item=item,
        weight=rating,
        delimiter=delimiter,
        header=header,
        aggregate="max",
        on_bad_rows=on_bad_rows,
    )
    coo = raw.matrix.tocoo()
    keep = coo.data >= min_rating
    if not keep.any():
        raise DataError(
            f"No rating in {str(path)!r} reaches min_rating ({min_rating!r}; the highest is "
            f"{float(coo.data.max())!r}); lower min_rating."
        )
    weights = np.ones(int(keep.sum()), np.float32) if binary else coo.data[keep]
    user_ids, item_ids = raw.users.ids[coo.row[keep]], raw.items.ids[coo.col[keep]]
    counts = np.bincount(coo.row[keep], minlength=len(raw.users))
    if int(counts.max()) < min_user_interactions:
        raise DataError(
            f"No user of {str(path)!r} has {min_user_interactions} ratings >= {min_rating!r} "
            "(min_user_interactions); lower it."
        )
    return Interactions.from_arrays(
        user_ids, item_ids, weights, min_user_interactions=min_user_interactions
    )
