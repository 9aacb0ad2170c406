"""Data-aware default hyperparameters: the experiment behind ``regularization="auto"``.

For every dataset this script trains alsrec on an 80/20 per-user holdout (or a per-user
time split) and measures NDCG@10 with seen items excluded, for

* a 70-point grid: factors {64, 128} x regularization 7 log-spaced values in
  [0.01, 1000] x alpha {1, 3, 10, 30, 100};
* a quarter-decade regularization sweep (3.2 .. 1000) at the default factors (64) and
  alpha (1);
* today's defaults (factors 64, regularization 0.01, alpha 1);
* the data-aware rule (factors 64, alpha 1, ``regularization="auto"``, which resolves to
  :func:`alsrec.model.defaults.auto_regularization` of the training confidences),

and the fit time of the rule against today's defaults (median of 5 alternating fits each,
64 factors). The grid and sweep run on the implicit backend (same objective and
initialization, faster); the old defaults and the rule run on the numpy backend.
Results are cached in ``benchmarks/results/defaults-experiment.json`` (or ``--out``), so a
rerun only trains what is missing; ``--fresh`` ignores the cache. The committed cache holds
the measurements behind the table in ``benchmarks/README.md``.

Datasets: MovieLens-100k (from the ``recbole==1.2.1`` wheel: ``pip download --no-deps
recbole==1.2.1`` and unzip ``recbole/dataset_example/ml-100k/ml-100k.inter``; never commit
it) with ratings as weights, binarized (rating >= 4), and held out: binarized at >= 3 and a
per-user time split; plus seeded synthetic data (:func:`alsrec.datasets.synthetic`) of
several shapes and weight distributions, four to derive the rule and three held out; seven
size checks and six fresh sets (alpha-1 sweep only). The tables end with the candidate rule
forms and a leave-one-out check of the spectral rule (constants chosen without the dataset).
Ten *frozen* sets (``FROZEN_DATASETS``: new seeds and shapes, four MovieLens-100k variants)
were added after the shipped constants were fixed and check them out of sample, unrefitted:
``Recommender()`` with every default against the alpha-1 sweep (extended downwards while
its best is at the low end) and the 70-point grid (``--sweep-only`` skips the grid); they
stay out of the forms and leave-one-out tables. They led to the guard of
:func:`alsrec.model.defaults.spectral_scale`; a rerun scores them with it (keeping the
earlier value as ``before_guard``). Nine *frozen2* sets (``FROZEN2_DATASETS``) were made
after the guard and check it the same way, with the unguarded law (``UNGUARDED_LAW``)
scored next to it. Each later group (``FROZEN3_DATASETS`` ... ``FROZEN9_DATASETS``) was made
before the change it checks was scored on it; a rerun after a change of the rule keeps the
earlier defaults as ``before_excess`` (the latest stage; the earlier stages are recorded
under their own keys).

Command (about 40 minutes on 2 shared cores; ``--table`` prints the Markdown table from
the cache; ``--only NAME ...`` runs some datasets; ``--transfer`` scores the defaults'
synthetic misses and the grid-best parameters on further splits)::

    pip download --no-deps recbole==1.2.1 -d /tmp/wheel
    unzip -o /tmp/wheel/*.whl 'recbole/dataset_example/ml-100k/*' -d /tmp/ml
    ALSREC_ML100K=/tmp/ml/recbole/dataset_example/ml-100k/ml-100k.inter \
        OPENBLAS_NUM_THREADS=1 python benchmarks/scripts/defaults_experiment.py
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from ml100k import ml100k_columns

from alsrec import ALSParams, Interactions, Recommender
from alsrec.datasets import synthetic
from alsrec.evaluation import holdout_split, ndcg_at_k, time_split
from alsrec.model import noise_multiple
from alsrec.model.defaults import (
    AUTO_SCALE,
    auto_regularization,
    level_factor,
    params_confidence,
    resolve_params,
    spectral_scale,
    weak_signal_factor,
)
from alsrec.model.statistics import matrix_level, signal_energy, spectral_ratio

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@contextmanager
def undamped() -> Iterator[None]:
    """The rule without :func:`alsrec.model.noise_multiple.ratio_damping` (its exponent set
    to 0 for the block), for the "before the damping" column."""
    kept = noise_multiple.DAMPED_EXPONENT
    noise_multiple.DAMPED_EXPONENT = 0.0
    try:
        yield
    finally:
        noise_multiple.DAMPED_EXPONENT = kept


FACTORS = (64, 128)
REGULARIZATION = tuple(float(f"{10 ** (-2 + 5 * k / 6):.4g}") for k in range(7))
ALPHA = (1.0, 3.0, 10.0, 30.0, 100.0)
SWEEP = tuple(float(f"{10 ** (k / 8):.4g}") for k in range(4, 25))
"""Eighth-decade regularization sweep 3.16 .. 1000 at factors 64, alpha 1 (the defaults)."""
GRID_BACKEND = "implicit"
"""The grid runs on the implicit backend: the same objective and initialization as the
numpy backend (equal seeds give equal factors up to float32 rounding), 1.6x faster here.
The old defaults and the rule are scored and timed on the numpy backend (the default)."""
Split = tuple[Interactions, Interactions]
UNGUARDED_LAW = (7.17, 1.08)
"""The spectral power law ``7.17 * rho**1.08`` as it was before the guard in
:func:`alsrec.model.defaults.spectral_scale` (no clamp, no return to 0.8): the second frozen
group scores it too, to show what the guard changes."""


# -- datasets -------------------------------------------------------------------------------------

FURTHER_SPLIT: ContextVar[int] = ContextVar("FURTHER_SPLIT", default=0)
"""Added to the holdout seed of the MovieLens-100k variants (0: the tables' split); the
multi-split check (``defaults_multisplit.py``) sets it to draw further splits of the same
data. Synthetic sets take the offset as :meth:`SyntheticSet.split`'s argument instead."""


def _holdout(data: Interactions, seed: int) -> Split:
    """The 80/20 per-user holdout of a MovieLens-100k variant, seed ``seed`` plus
    :data:`FURTHER_SPLIT`."""
    return holdout_split(data, 0.2, random_state=seed + FURTHER_SPLIT.get())


def _ml100k_rows() -> dict[str, np.ndarray]:
    return ml100k_columns()


@dataclass(frozen=True)
class _Counts:
    """MovieLens-100k's columns with the item and user counts the later groups select by."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    ids: np.ndarray
    """The item IDs, sorted."""
    counts: np.ndarray
    """Ratings per item of ``ids``."""
    users: np.ndarray
    """The user IDs, sorted."""
    per_user: np.ndarray
    """Ratings per user of ``users``."""

    @property
    def ranked(self) -> np.ndarray:
        """The item IDs, most rated first (ties in ID order)."""
        return self.ids[np.argsort(-self.counts, kind="stable")]


def _ml100k_counts() -> _Counts:
    rows = _ml100k_rows()
    ids, counts = np.unique(rows["item"], return_counts=True)
    users, per_user = np.unique(rows["user"], return_counts=True)
    return _Counts(rows["user"], rows["item"], rows["rating"], ids, counts, users, per_user)


def _ml100k(kind: str) -> Split:
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    if kind == "ratings":
        data = Interactions.from_arrays(user, item, rating)
    elif kind == "time":
        return time_split(user, item, rating, rows["time"], test_fraction=0.2, mode="per-user")
    else:
        keep = rating >= {"ge5": 5.0, "ge4": 4.0}.get(kind, 3.0)
        data = Interactions.from_arrays(user[keep], item[keep], None)
    return _holdout(data, 0)


@dataclass(frozen=True)
class SyntheticSet:
    """A synthetic dataset whose weights follow ``weights``, split 80/20 per user.

    ``binary``: 1 per distinct pair; ``poisson``: the generator's ``1 + Poisson(1)``
    counts, summed over repeats; ``heavy``: discrete Pareto counts (tail index 1.2,
    capped at 10,000); ``rating``: uniform integers 1..5 (max over repeats);
    ``lognormal``: counts ``ceil(exp(N(0, 1.5)))``, summed over repeats. Calling it gives
    the split every table uses (holdout seed ``seed``); :meth:`split` gives further ones.
    """

    weights: str
    seed: int
    shape: dict[str, Any]

    def __call__(self) -> Split:
        return self.split(0)

    def split(self, k: int) -> Split:
        """The same data split with the holdout seed ``seed + k`` (``k = 0``: the tables')."""
        data = synthetic(random_state=self.seed, **self.shape)
        rng = np.random.default_rng(self.seed + 1000)
        n = len(data)
        if self.weights == "poisson":
            full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
        elif self.weights == "binary":
            full = Interactions.from_arrays(data.user_ids, data.item_ids, None, aggregate="max")
        elif self.weights == "heavy":
            counts = np.minimum(np.floor(rng.random(n) ** (-1 / 1.2)), 10_000)
            full = Interactions.from_arrays(data.user_ids, data.item_ids, counts.astype(np.float32))
        elif self.weights == "rating":
            stars = rng.integers(1, 6, n).astype(np.float32)
            full = Interactions.from_arrays(data.user_ids, data.item_ids, stars, aggregate="max")
        elif self.weights == "lognormal":
            counts = np.ceil(np.exp(rng.normal(0.0, 1.5, n)))
            full = Interactions.from_arrays(data.user_ids, data.item_ids, counts.astype(np.float32))
        else:
            raise ValueError(self.weights)
        return holdout_split(full, 0.2, random_state=self.seed + k)


def _synthetic(weights: str, seed: int, **shape: Any) -> SyntheticSet:
    return SyntheticSet(weights, seed, shape)


DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    "ml100k-ratings": ("derive", lambda: _ml100k("ratings")),
    "ml100k-ge4": ("derive", lambda: _ml100k("ge4")),
    "syn-default-poisson": (
        "derive",
        _synthetic("poisson", 1, n_users=5000, n_items=1000, mean_interactions=20),
    ),
    "syn-sparse-binary": (
        "derive",
        _synthetic("binary", 2, n_users=10000, n_items=4000, n_clusters=20, mean_interactions=8),
    ),
    "syn-dense-heavy": (
        "derive",
        _synthetic(
            "heavy",
            3,
            n_users=2000,
            n_items=400,
            n_clusters=8,
            mean_interactions=60,
            popularity_exponent=0.8,
        ),
    ),
    "syn-flat-rating": (
        "derive",
        _synthetic(
            "rating",
            4,
            n_users=4000,
            n_items=2000,
            n_clusters=15,
            mean_interactions=30,
            popularity_exponent=0.3,
            in_cluster=0.6,
        ),
    ),
    "ml100k-ge3": ("heldout", lambda: _ml100k("ge3")),
    "ml100k-time": ("heldout", lambda: _ml100k("time")),
    "syn-large-heavy": (
        "heldout",
        _synthetic(
            "heavy",
            7,
            n_users=8000,
            n_items=2500,
            n_clusters=25,
            mean_interactions=12,
            popularity_exponent=1.2,
        ),
    ),
    "syn-dense-binary": (
        "heldout",
        _synthetic(
            "binary",
            11,
            n_users=1500,
            n_items=800,
            n_clusters=5,
            mean_interactions=80,
            popularity_exponent=0.5,
            in_cluster=0.5,
        ),
    ),
    "syn-skewed-poisson": (
        "heldout",
        _synthetic(
            "poisson",
            13,
            n_users=8000,
            n_items=6000,
            n_clusters=40,
            mean_interactions=6,
            popularity_exponent=1.5,
        ),
    ),
}


def _ml100k_half(kind: str) -> Split:
    """MovieLens-100k with a seeded half of its users (item masses halve)."""
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    kept = np.random.default_rng(5).permutation(np.unique(user))[: np.unique(user).size // 2]
    keep = np.isin(user, kept)
    if kind == "ge4":
        keep &= rating >= 4.0
        data = Interactions.from_arrays(user[keep], item[keep], None)
    else:
        data = Interactions.from_arrays(user[keep], item[keep], rating[keep])
    return _holdout(data, 0)


SIZE_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # The same generator shape at 1/4, 1x (syn-default-poisson) and 4x the users, and 4x
    # the interactions per user: does the optimum move as the rule's sqrt(mass) says?
    "size-small-poisson": (
        "size",
        _synthetic("poisson", 25, n_users=1250, n_items=1000, mean_interactions=20),
    ),
    "size-users4x-poisson": (
        "size",
        _synthetic("poisson", 21, n_users=20000, n_items=1000, mean_interactions=20),
    ),
    "size-dense4x-poisson": (
        "size",
        _synthetic("poisson", 22, n_users=5000, n_items=1000, mean_interactions=80),
    ),
    "size-ml100k-ge4-half": ("size", lambda: _ml100k_half("ge4")),
    "size-ml100k-ratings-half": ("size", lambda: _ml100k_half("ratings")),
    "size-big-binary": (
        "size",
        _synthetic("binary", 24, n_users=50000, n_items=10000, n_clusters=30, mean_interactions=10),
    ),
    "size-big-poisson": (
        "size",
        _synthetic(
            "poisson", 23, n_users=50000, n_items=10000, n_clusters=50, mean_interactions=20
        ),
    ),
}
"""Size checks: no 70-point grid (too slow at 1M interactions on 2 cores), only the
alpha-1 sweep and the rule, so the rule is compared with the best regularization at the
default alpha and factors."""

FRESH_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # Added after a first fit of the spectral rule's constants on the 18 sets above (13.2,
    # 1.37), as a check on data it had not seen: fresh seeds and shapes, and MovieLens-100k
    # binarized at 5 stars. That rule reached 95% on 3 of these 6 (92.7-101.7%); the shipped
    # constants (7.17, 1.08) were then fitted on all 24, with leave-one-out as the check.
    "fresh-ml100k-ge5": ("fresh", lambda: _ml100k("ge5")),
    "fresh-mid-binary": (
        "fresh",
        _synthetic("binary", 31, n_users=6000, n_items=3000, n_clusters=12, mean_interactions=15),
    ),
    "fresh-dense-rating": (
        "fresh",
        _synthetic(
            "rating",
            32,
            n_users=3000,
            n_items=1500,
            n_clusters=10,
            mean_interactions=40,
            popularity_exponent=0.6,
        ),
    ),
    "fresh-sparse-heavy": (
        "fresh",
        _synthetic("heavy", 33, n_users=12000, n_items=5000, n_clusters=30, mean_interactions=8),
    ),
    "fresh-clusters60-poisson": (
        "fresh",
        _synthetic(
            "poisson",
            34,
            n_users=6000,
            n_items=2000,
            n_clusters=60,
            mean_interactions=25,
            popularity_exponent=0.9,
            in_cluster=0.7,
        ),
    ),
    "fresh-skewed-binary": (
        "fresh",
        _synthetic(
            "binary",
            35,
            n_users=8000,
            n_items=4000,
            n_clusters=25,
            mean_interactions=10,
            popularity_exponent=1.3,
        ),
    ),
}
"""Fresh data for the spectral rule: no grid (the alpha-1 sweep and the rule only)."""


def _ml100k_variant(kind: str) -> Split:
    """MovieLens-100k variants for the frozen check (none used to fit the rule).

    ``users60``: ratings as weights, a seeded 60% of the users (seed 11; the size check
    kept another half); ``ge2``: binarized at >= 2 stars; ``items10-ge4``: binarized at
    >= 4 stars, only items with 10 or more ratings (of any value); ``time-ge4``: binarized
    at >= 4 stars with a per-user time split (the last 20% of each user's positives).
    """
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    if kind == "users60":
        users = np.unique(user)
        kept = np.random.default_rng(11).permutation(users)[: int(0.6 * users.size)]
        keep = np.isin(user, kept)
        data = Interactions.from_arrays(user[keep], item[keep], rating[keep])
    elif kind == "ge2":
        keep = rating >= 2.0
        data = Interactions.from_arrays(user[keep], item[keep], None)
    elif kind == "items10-ge4":
        ids, counts = np.unique(item, return_counts=True)
        keep = np.isin(item, ids[counts >= 10]) & (rating >= 4.0)
        data = Interactions.from_arrays(user[keep], item[keep], None)
    elif kind == "time-ge4":
        keep = rating >= 4.0
        ones = np.ones(int(keep.sum()), dtype=np.float32)
        return time_split(
            user[keep], item[keep], ones, rows["time"][keep], test_fraction=0.2, mode="per-user"
        )
    else:
        raise ValueError(kind)
    return _holdout(data, 0)


FROZEN_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # Added after the shipped constants (7.17, 1.08) were fixed, and scored with them as
    # they are: nothing here was used to choose the rule's form or constants, and the
    # constants were not refitted afterwards. New seeds (51-56) and shapes (tall and wide
    # matrices, 3 and 100 clusters, weak clusters, flat popularity, log-normal counts)
    # and MovieLens-100k variants not used before.
    "frozen-ml100k-users60": ("frozen", lambda: _ml100k_variant("users60")),
    "frozen-ml100k-ge2": ("frozen", lambda: _ml100k_variant("ge2")),
    "frozen-ml100k-items10-ge4": ("frozen", lambda: _ml100k_variant("items10-ge4")),
    "frozen-ml100k-time-ge4": ("frozen", lambda: _ml100k_variant("time-ge4")),
    "frozen-tall-binary": (
        "frozen",
        _synthetic("binary", 51, n_users=15000, n_items=600, n_clusters=10, mean_interactions=6),
    ),
    "frozen-wide-rating": (
        "frozen",
        _synthetic(
            "rating",
            52,
            n_users=1200,
            n_items=6000,
            n_clusters=20,
            mean_interactions=50,
            popularity_exponent=0.7,
            in_cluster=0.7,
        ),
    ),
    "frozen-clusters3-heavy": (
        "frozen",
        _synthetic(
            "heavy",
            53,
            n_users=3000,
            n_items=1200,
            n_clusters=3,
            mean_interactions=25,
            popularity_exponent=1.1,
            in_cluster=0.9,
        ),
    ),
    "frozen-clusters100-poisson": (
        "frozen",
        _synthetic(
            "poisson",
            54,
            n_users=7000,
            n_items=3500,
            n_clusters=100,
            mean_interactions=12,
            popularity_exponent=0.6,
            in_cluster=0.85,
        ),
    ),
    "frozen-weak-binary": (
        "frozen",
        _synthetic(
            "binary",
            55,
            n_users=5000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=15,
            in_cluster=0.4,
        ),
    ),
    "frozen-flat-lognormal": (
        "frozen",
        _synthetic(
            "lognormal",
            56,
            n_users=4000,
            n_items=1500,
            n_clusters=12,
            mean_interactions=15,
            popularity_exponent=0.0,
        ),
    ),
}
"""The frozen out-of-sample check: the alpha-1 sweep, ``Recommender()`` with every default
(a real fit), and the 70-point grid unless ``--sweep-only``. These sets are left out of the
forms and leave-one-out tables (which describe the 24 sets the rule was fitted on)."""

FROZEN2_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A second frozen group, made after the guard on s_70/s_1 (clamp below 0.08, blend back
    # to the mass-only multiple between 0.225 and 0.3) was chosen on the first frozen
    # group, to check the guard on data it has not seen: new seeds (61-68, 70), five sets
    # with s_70/s_1 above the fitted range (40, 70, 150 and 300 planted clusters, flat
    # popularity), two inside it and two below it (Zipf exponents 1.7 and 2). Neither the
    # rule's constants nor the guard were changed after these were scored.
    "frozen2-clusters40-binary": (
        "frozen2",
        _synthetic(
            "binary",
            61,
            n_users=6000,
            n_items=2500,
            n_clusters=40,
            mean_interactions=10,
            popularity_exponent=0.8,
        ),
    ),
    "frozen2-clusters70-rating": (
        "frozen2",
        _synthetic(
            "rating",
            62,
            n_users=5000,
            n_items=3000,
            n_clusters=70,
            mean_interactions=12,
            popularity_exponent=0.5,
        ),
    ),
    "frozen2-clusters150-lognormal": (
        "frozen2",
        _synthetic(
            "lognormal",
            63,
            n_users=8000,
            n_items=4000,
            n_clusters=150,
            mean_interactions=8,
            popularity_exponent=0.7,
        ),
    ),
    "frozen2-clusters300-binary": (
        "frozen2",
        _synthetic(
            "binary",
            64,
            n_users=10000,
            n_items=5000,
            n_clusters=300,
            mean_interactions=6,
            popularity_exponent=0.6,
        ),
    ),
    "frozen2-flat-poisson": (
        "frozen2",
        _synthetic(
            "poisson",
            65,
            n_users=3000,
            n_items=1000,
            n_clusters=8,
            mean_interactions=20,
            popularity_exponent=0.2,
        ),
    ),
    "frozen2-mid-heavy": (
        "frozen2",
        _synthetic(
            "heavy",
            66,
            n_users=5000,
            n_items=2000,
            n_clusters=15,
            mean_interactions=12,
            popularity_exponent=1.0,
        ),
    ),
    "frozen2-mid-rating": (
        "frozen2",
        _synthetic(
            "rating",
            67,
            n_users=4000,
            n_items=1500,
            n_clusters=25,
            mean_interactions=15,
            popularity_exponent=0.9,
        ),
    ),
    "frozen2-skew2-binary": (
        "frozen2",
        _synthetic(
            "binary",
            68,
            n_users=8000,
            n_items=3000,
            n_clusters=10,
            mean_interactions=8,
            popularity_exponent=2.0,
            in_cluster=0.4,
        ),
    ),
    "frozen2-skew17-heavy": (
        "frozen2",
        _synthetic(
            "heavy",
            70,
            n_users=7000,
            n_items=2500,
            n_clusters=15,
            mean_interactions=8,
            popularity_exponent=1.7,
            in_cluster=0.5,
        ),
    ),
}
"""The second frozen group: scored like the first (sweep, ``Recommender()``, grid), made
after the guard in :func:`alsrec.model.defaults.spectral_scale` was chosen."""


def _ml100k_frozen3(kind: str) -> Split:
    """MovieLens-100k variants of the third frozen group (holdout seed 3): ``eq5``,
    binarized at 5 stars; ``items50-ratings``, ratings as weights, only items with 50 or
    more ratings."""
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    if kind == "eq5":
        keep = rating >= 5.0
        data = Interactions.from_arrays(user[keep], item[keep], None)
    elif kind == "items50-ratings":
        ids, counts = np.unique(item, return_counts=True)
        keep = np.isin(item, ids[counts >= 50])
        data = Interactions.from_arrays(user[keep], item[keep], rating[keep])
    else:
        raise ValueError(kind)
    return _holdout(data, 3)


FROZEN3_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A third frozen group, defined (and its grid started) before the constant of
    # alpha="auto" (0.03) and the taper of the regularization multiple above
    # s_70/s_1 = 0.3 were chosen on the 30 grid sets above; neither was changed after
    # these were scored. New seeds 80-85, two MovieLens-100k variants.
    "frozen3-clusters20-poisson": (
        "frozen3",
        _synthetic(
            "poisson",
            80,
            n_users=4000,
            n_items=2000,
            n_clusters=20,
            mean_interactions=10,
            popularity_exponent=0.9,
        ),
    ),
    "frozen3-clusters200-rating": (
        "frozen3",
        _synthetic(
            "rating",
            81,
            n_users=9000,
            n_items=4500,
            n_clusters=200,
            mean_interactions=7,
            popularity_exponent=0.6,
        ),
    ),
    "frozen3-sparse-heavy": (
        "frozen3",
        _synthetic(
            "heavy",
            82,
            n_users=12000,
            n_items=3000,
            n_clusters=30,
            mean_interactions=5,
            popularity_exponent=1.2,
        ),
    ),
    "frozen3-dense-lognormal": (
        "frozen3",
        _synthetic(
            "lognormal",
            83,
            n_users=1500,
            n_items=800,
            n_clusters=12,
            mean_interactions=40,
            popularity_exponent=0.8,
        ),
    ),
    "frozen3-flat-binary": (
        "frozen3",
        _synthetic(
            "binary",
            84,
            n_users=3000,
            n_items=1500,
            n_clusters=10,
            mean_interactions=15,
            popularity_exponent=0.3,
        ),
    ),
    "frozen3-skew15-rating": (
        "frozen3",
        _synthetic(
            "rating",
            85,
            n_users=6000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=9,
            popularity_exponent=1.5,
            in_cluster=0.5,
        ),
    ),
    "frozen3-ml100k-eq5": ("frozen3", lambda: _ml100k_frozen3("eq5")),
    "frozen3-ml100k-items50-ratings": ("frozen3", lambda: _ml100k_frozen3("items50-ratings")),
}
"""The third frozen group: made before ``alpha="auto"`` and the taper were chosen."""


def _ml100k_frozen4(kind: str) -> Split:
    """MovieLens-100k variants of the fourth frozen group: ``ge3-time``, binarized at >= 3
    stars with a per-user time split; ``active-ratings``, ratings as weights, only users
    with 100 or more ratings (holdout seed 4)."""
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    if kind == "ge3-time":
        keep = rating >= 3.0
        ones = np.ones(int(keep.sum()), dtype=np.float32)
        return time_split(
            user[keep], item[keep], ones, rows["time"][keep], test_fraction=0.2, mode="per-user"
        )
    if kind == "active-ratings":
        ids, counts = np.unique(user, return_counts=True)
        keep = np.isin(user, ids[counts >= 100])
        data = Interactions.from_arrays(user[keep], item[keep], rating[keep])
        return _holdout(data, 4)
    raise ValueError(kind)


FROZEN4_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A fourth frozen group, defined after alpha="auto" and the taper were fixed and
    # shipped, to score the defaults once more on data nothing was chosen on. New seeds
    # 90-93, two MovieLens-100k variants.
    "frozen4-clusters50-binary": (
        "frozen4",
        _synthetic(
            "binary",
            90,
            n_users=7000,
            n_items=3000,
            n_clusters=50,
            mean_interactions=6,
            popularity_exponent=0.8,
        ),
    ),
    "frozen4-mid-poisson": (
        "frozen4",
        _synthetic(
            "poisson",
            91,
            n_users=5000,
            n_items=2000,
            n_clusters=15,
            mean_interactions=12,
            popularity_exponent=1.0,
        ),
    ),
    "frozen4-sparse-rating": (
        "frozen4",
        _synthetic(
            "rating",
            92,
            n_users=10000,
            n_items=4000,
            n_clusters=40,
            mean_interactions=4,
            popularity_exponent=1.1,
        ),
    ),
    "frozen4-dense-binary": (
        "frozen4",
        _synthetic(
            "binary",
            93,
            n_users=2000,
            n_items=600,
            n_clusters=8,
            mean_interactions=50,
            popularity_exponent=0.6,
            in_cluster=0.6,
        ),
    ),
    "frozen4-ml100k-ge3-time": ("frozen4", lambda: _ml100k_frozen4("ge3-time")),
    "frozen4-ml100k-active-ratings": ("frozen4", lambda: _ml100k_frozen4("active-ratings")),
}
"""The fourth frozen group: made after ``alpha="auto"`` and the taper were shipped."""


def _ml100k_frozen5(kind: str) -> Split:
    """MovieLens-100k variants of the fifth frozen group (holdout seed 5): ``ge4-no-top``,
    binarized at >= 4 stars without the items that have 150 or more ratings (a flatter
    popularity); ``ge4-half-users``, binarized at >= 4 stars, a seeded half of the users."""
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    if kind == "ge4-no-top":
        ids, counts = np.unique(item, return_counts=True)
        keep = (rating >= 4.0) & np.isin(item, ids[counts < 150])
    elif kind == "ge4-half-users":
        users = np.unique(user)
        chosen = np.random.default_rng(5).choice(users, users.size // 2, replace=False)
        keep = (rating >= 4.0) & np.isin(user, chosen)
    else:
        raise ValueError(kind)
    return _holdout(Interactions.from_arrays(user[keep], item[keep], None), 5)


FROZEN5_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A fifth frozen group, defined (and its grid started) before any change to the rule
    # after the fourth: it probes the weak spots the earlier groups found (flat
    # popularity, weak clusters, heavy weights at middling skew). New seeds 100-105, two
    # MovieLens-100k variants.
    "frozen5-flat-binary": (
        "frozen5",
        _synthetic(
            "binary",
            100,
            n_users=4000,
            n_items=2000,
            n_clusters=12,
            mean_interactions=12,
            popularity_exponent=0.2,
        ),
    ),
    "frozen5-flat-rating": (
        "frozen5",
        _synthetic(
            "rating",
            101,
            n_users=5000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=10,
            popularity_exponent=0.3,
        ),
    ),
    "frozen5-weak-binary": (
        "frozen5",
        _synthetic(
            "binary",
            102,
            n_users=6000,
            n_items=3000,
            n_clusters=15,
            mean_interactions=12,
            in_cluster=0.3,
        ),
    ),
    "frozen5-weak-poisson": (
        "frozen5",
        _synthetic(
            "poisson",
            103,
            n_users=4000,
            n_items=1500,
            n_clusters=25,
            mean_interactions=15,
            popularity_exponent=0.8,
            in_cluster=0.35,
        ),
    ),
    "frozen5-mid-heavy": (
        "frozen5",
        _synthetic(
            "heavy",
            104,
            n_users=6000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=10,
            popularity_exponent=0.9,
        ),
    ),
    "frozen5-flat-sparse-binary": (
        "frozen5",
        _synthetic(
            "binary",
            105,
            n_users=10000,
            n_items=5000,
            n_clusters=30,
            mean_interactions=6,
            popularity_exponent=0.4,
        ),
    ),
    "frozen5-ml100k-ge4-no-top": ("frozen5", lambda: _ml100k_frozen5("ge4-no-top")),
    "frozen5-ml100k-ge4-half-users": ("frozen5", lambda: _ml100k_frozen5("ge4-half-users")),
}
"""The fifth frozen group: made before the rule was changed after the fourth, to probe
flat popularity, weak clusters and heavy weights."""
FROZEN6_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A sixth frozen group, defined (and its grid started) after the fifth was scored
    # with the confidence-level factor and before any statistic to tell flat popularity
    # from many clusters was looked at: two flat-popularity sets, two with 120 and 250
    # planted clusters, log-normal counts and weak clusters. New seeds 110-115.
    "frozen6-flat-sparse-poisson": (
        "frozen6",
        _synthetic(
            "poisson",
            110,
            n_users=6000,
            n_items=3000,
            n_clusters=15,
            mean_interactions=8,
            popularity_exponent=0.3,
        ),
    ),
    "frozen6-flat-dense-binary": (
        "frozen6",
        _synthetic(
            "binary",
            111,
            n_users=2000,
            n_items=1000,
            n_clusters=8,
            mean_interactions=25,
            popularity_exponent=0.25,
        ),
    ),
    "frozen6-clusters120-binary": (
        "frozen6",
        _synthetic(
            "binary",
            112,
            n_users=8000,
            n_items=4000,
            n_clusters=120,
            mean_interactions=8,
            popularity_exponent=0.6,
        ),
    ),
    "frozen6-clusters250-poisson": (
        "frozen6",
        _synthetic(
            "poisson",
            113,
            n_users=9000,
            n_items=4500,
            n_clusters=250,
            mean_interactions=7,
            popularity_exponent=0.7,
        ),
    ),
    "frozen6-mid-lognormal": (
        "frozen6",
        _synthetic(
            "lognormal",
            114,
            n_users=5000,
            n_items=2000,
            n_clusters=20,
            mean_interactions=10,
            popularity_exponent=0.9,
        ),
    ),
    "frozen6-weak-rating": (
        "frozen6",
        _synthetic(
            "rating",
            115,
            n_users=5000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=12,
            in_cluster=0.35,
        ),
    ),
}
"""The sixth frozen group: flat popularity against many clusters, made before any rule
separating them was tried."""


def _ml100k_frozen7() -> Split:
    """The MovieLens-100k variant of the seventh frozen group (holdout seed 7): binarized
    at >= 4 stars, only the items with 20 to 199 such ratings (no blockbusters and no
    long tail: a flatter popularity than any MovieLens variant before)."""
    rows = _ml100k_rows()
    user, item, rating = rows["user"], rows["item"], rows["rating"]
    liked = rating >= 4.0
    ids, counts = np.unique(item[liked], return_counts=True)
    keep = liked & np.isin(item, ids[(counts >= 20) & (counts < 200)])
    return _holdout(Interactions.from_arrays(user[keep], item[keep], None), 7)


FROZEN7_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A seventh frozen group, defined (and its grid started) after the flat-popularity
    # multiple was chosen (FLAT_POPULARITY, FLAT_SCALE) and before it was scored on any of
    # them: four sets with flat or nearly flat popularity (one at the edge of the blend,
    # one with heavy counts), two whose Gini lies just above the blend (100 clusters and
    # dense binary data at popularity exponents 0.4-0.45), and a flatter MovieLens-100k
    # variant. New seeds 120-125.
    "frozen7-flat-binary": (
        "frozen7",
        _synthetic(
            "binary",
            120,
            n_users=5000,
            n_items=2500,
            n_clusters=16,
            mean_interactions=10,
            popularity_exponent=0.25,
        ),
    ),
    "frozen7-flat-lognormal": (
        "frozen7",
        _synthetic(
            "lognormal",
            121,
            n_users=4000,
            n_items=2000,
            n_clusters=12,
            mean_interactions=12,
            popularity_exponent=0.2,
        ),
    ),
    "frozen7-flat-dense-poisson": (
        "frozen7",
        _synthetic(
            "poisson",
            122,
            n_users=2500,
            n_items=1200,
            n_clusters=8,
            mean_interactions=30,
            popularity_exponent=0.3,
        ),
    ),
    "frozen7-flat-sparse-rating": (
        "frozen7",
        _synthetic(
            "rating",
            123,
            n_users=8000,
            n_items=4000,
            n_clusters=25,
            mean_interactions=7,
            popularity_exponent=0.35,
        ),
    ),
    "frozen7-clusters100-binary": (
        "frozen7",
        _synthetic(
            "binary",
            124,
            n_users=6000,
            n_items=3000,
            n_clusters=100,
            mean_interactions=10,
            popularity_exponent=0.4,
        ),
    ),
    "frozen7-dense-binary": (
        "frozen7",
        _synthetic(
            "binary",
            125,
            n_users=3000,
            n_items=1500,
            n_clusters=10,
            mean_interactions=25,
            popularity_exponent=0.45,
        ),
    ),
    "frozen7-ml100k-ge4-mid-items": ("frozen7", _ml100k_frozen7),
}
"""The seventh frozen group: made after the flat-popularity multiple was chosen, before it
was scored on them."""
FROZEN8_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # An eighth frozen group, defined (and its grid computed) on 2026-12-03 before the
    # spectral-gap check was designed, and not looked at until it was chosen: sparse sets
    # with flat or nearly flat popularity and 12-30 planted clusters (what the gap check is
    # for), and sets with 60-180 planted clusters at similar popularity (what it must leave
    # alone), one with heavy counts. New seeds 130-137.
    "frozen8-flat-sparse-binary": (
        "frozen8",
        _synthetic(
            "binary",
            130,
            n_users=9000,
            n_items=4500,
            n_clusters=20,
            mean_interactions=5,
            popularity_exponent=0.3,
        ),
    ),
    "frozen8-flat-sparse-poisson": (
        "frozen8",
        _synthetic(
            "poisson",
            131,
            n_users=7000,
            n_items=3500,
            n_clusters=30,
            mean_interactions=6,
            popularity_exponent=0.35,
        ),
    ),
    "frozen8-clusters90-binary": (
        "frozen8",
        _synthetic(
            "binary",
            132,
            n_users=7000,
            n_items=3500,
            n_clusters=90,
            mean_interactions=8,
            popularity_exponent=0.3,
        ),
    ),
    "frozen8-clusters180-rating": (
        "frozen8",
        _synthetic(
            "rating",
            133,
            n_users=9000,
            n_items=4500,
            n_clusters=180,
            mean_interactions=6,
            popularity_exponent=0.35,
        ),
    ),
    "frozen8-clusters40-heavy": (
        "frozen8",
        _synthetic(
            "heavy",
            134,
            n_users=8000,
            n_items=4000,
            n_clusters=40,
            mean_interactions=6,
            popularity_exponent=0.5,
        ),
    ),
    "frozen8-flat-sparse-lognormal": (
        "frozen8",
        _synthetic(
            "lognormal",
            135,
            n_users=6000,
            n_items=3000,
            n_clusters=15,
            mean_interactions=8,
            popularity_exponent=0.25,
        ),
    ),
    "frozen8-clusters60-binary": (
        "frozen8",
        _synthetic(
            "binary",
            136,
            n_users=6000,
            n_items=3000,
            n_clusters=60,
            mean_interactions=7,
            popularity_exponent=0.3,
        ),
    ),
    "frozen8-flat-rating": (
        "frozen8",
        _synthetic(
            "rating",
            137,
            n_users=5000,
            n_items=2500,
            n_clusters=12,
            mean_interactions=9,
            popularity_exponent=0.3,
        ),
    ),
}
"""The eighth frozen group: made before the spectral-gap check was designed, scored on it
only after it was chosen."""


FROZEN9_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A ninth frozen group, defined (and its grid computed) on 2026-12-03 after the eighth
    # had been scored with the spectral-excess check, before the check's confidence-level
    # gate was scored on anything: flat spectra (s_70/s_1 of 0.3 or more expected) with
    # heavy-tailed or log-normal counts (what the gate is for), sparse flat sets with
    # binary, rating and Poisson weights (what the check is for) and 120-150 planted
    # clusters (what it must leave alone). New seeds 140-147.
    "frozen9-flat-sparse-rating": (
        "frozen9",
        _synthetic(
            "rating",
            140,
            n_users=8000,
            n_items=4000,
            n_clusters=20,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
    "frozen9-flat-sparse-heavy": (
        "frozen9",
        _synthetic(
            "heavy",
            141,
            n_users=8000,
            n_items=4000,
            n_clusters=25,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
    "frozen9-clusters30-lognormal": (
        "frozen9",
        _synthetic(
            "lognormal",
            142,
            n_users=7000,
            n_items=3500,
            n_clusters=30,
            mean_interactions=7,
            popularity_exponent=0.45,
        ),
    ),
    "frozen9-clusters150-binary": (
        "frozen9",
        _synthetic(
            "binary",
            143,
            n_users=8000,
            n_items=4000,
            n_clusters=150,
            mean_interactions=6,
            popularity_exponent=0.35,
        ),
    ),
    "frozen9-flat-sparse-poisson": (
        "frozen9",
        _synthetic(
            "poisson",
            144,
            n_users=9000,
            n_items=4500,
            n_clusters=18,
            mean_interactions=5,
            popularity_exponent=0.35,
        ),
    ),
    "frozen9-clusters50-heavy": (
        "frozen9",
        _synthetic(
            "heavy",
            145,
            n_users=7000,
            n_items=3500,
            n_clusters=50,
            mean_interactions=7,
            popularity_exponent=0.4,
        ),
    ),
    "frozen9-flat-binary": (
        "frozen9",
        _synthetic(
            "binary",
            146,
            n_users=6000,
            n_items=3000,
            n_clusters=14,
            mean_interactions=8,
            popularity_exponent=0.3,
        ),
    ),
    "frozen9-clusters120-rating": (
        "frozen9",
        _synthetic(
            "rating",
            147,
            n_users=7000,
            n_items=3500,
            n_clusters=120,
            mean_interactions=7,
            popularity_exponent=0.4,
        ),
    ),
}
"""The ninth frozen group: made before the level gate of the excess check was scored."""


FROZEN10_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A tenth frozen group, defined (and its grid started) on 2026-12-03 before any change
    # to alpha="auto" on flat data was designed, and not looked at until one was chosen:
    # flat and sparse-flat sets with every weight distribution (what such a change is
    # for) and 40 and 200 planted clusters (what it must leave alone). New seeds 150-157.
    "frozen10-flat-sparse-binary": (
        "frozen10",
        _synthetic(
            "binary",
            150,
            n_users=8500,
            n_items=4200,
            n_clusters=16,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
    "frozen10-flat-rating": (
        "frozen10",
        _synthetic(
            "rating",
            151,
            n_users=6000,
            n_items=3000,
            n_clusters=12,
            mean_interactions=8,
            popularity_exponent=0.3,
        ),
    ),
    "frozen10-flat-sparse-lognormal": (
        "frozen10",
        _synthetic(
            "lognormal",
            152,
            n_users=9000,
            n_items=4500,
            n_clusters=20,
            mean_interactions=5,
            popularity_exponent=0.35,
        ),
    ),
    "frozen10-flat-poisson": (
        "frozen10",
        _synthetic(
            "poisson",
            153,
            n_users=6500,
            n_items=3200,
            n_clusters=15,
            mean_interactions=9,
            popularity_exponent=0.25,
        ),
    ),
    "frozen10-flat-sparse-heavy": (
        "frozen10",
        _synthetic(
            "heavy",
            154,
            n_users=8000,
            n_items=4000,
            n_clusters=22,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
    "frozen10-flat-binary": (
        "frozen10",
        _synthetic(
            "binary",
            155,
            n_users=5500,
            n_items=2800,
            n_clusters=10,
            mean_interactions=9,
            popularity_exponent=0.25,
        ),
    ),
    "frozen10-clusters40-rating": (
        "frozen10",
        _synthetic(
            "rating",
            156,
            n_users=7000,
            n_items=3500,
            n_clusters=40,
            mean_interactions=7,
            popularity_exponent=0.4,
        ),
    ),
    "frozen10-clusters200-binary": (
        "frozen10",
        _synthetic(
            "binary",
            157,
            n_users=8000,
            n_items=4000,
            n_clusters=200,
            mean_interactions=7,
            popularity_exponent=0.35,
        ),
    ),
}
"""The tenth frozen group: made before a change of ``alpha="auto"`` on flat data."""

FROZEN11_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # An eleventh frozen group, defined (and its grid computed) on 2026-12-03 after the
    # component scale was fixed and scored, for the next change: sparse and flat data with
    # log-normal and Pareto counts (where the defaults miss most now), weak clusters, and a
    # sparse flat rating set and skewed log-normal counts as checks of the rule as it is.
    # New seeds 160-167. Its defaults are scored with the rule of this stop, which makes it
    # out of sample for the component scale too.
    "frozen11-flat-sparse-lognormal": (
        "frozen11",
        _synthetic(
            "lognormal",
            160,
            n_users=8500,
            n_items=4200,
            n_clusters=18,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
    "frozen11-flat-lognormal": (
        "frozen11",
        _synthetic(
            "lognormal",
            161,
            n_users=6000,
            n_items=3000,
            n_clusters=12,
            mean_interactions=9,
            popularity_exponent=0.25,
        ),
    ),
    "frozen11-flat-sparse-heavy": (
        "frozen11",
        _synthetic(
            "heavy",
            162,
            n_users=9000,
            n_items=4500,
            n_clusters=20,
            mean_interactions=5,
            popularity_exponent=0.3,
        ),
    ),
    "frozen11-flat-heavy": (
        "frozen11",
        _synthetic(
            "heavy",
            163,
            n_users=6000,
            n_items=3000,
            n_clusters=14,
            mean_interactions=8,
            popularity_exponent=0.25,
        ),
    ),
    "frozen11-clusters35-lognormal": (
        "frozen11",
        _synthetic(
            "lognormal",
            164,
            n_users=7000,
            n_items=3500,
            n_clusters=35,
            mean_interactions=7,
            popularity_exponent=0.45,
        ),
    ),
    "frozen11-skewed-lognormal": (
        "frozen11",
        _synthetic(
            "lognormal",
            165,
            n_users=8000,
            n_items=3000,
            n_clusters=25,
            mean_interactions=8,
            popularity_exponent=0.8,
        ),
    ),
    "frozen11-weak-binary": (
        "frozen11",
        _synthetic(
            "binary",
            166,
            n_users=6500,
            n_items=3200,
            n_clusters=18,
            mean_interactions=11,
            in_cluster=0.3,
        ),
    ),
    "frozen11-flat-sparse-rating": (
        "frozen11",
        _synthetic(
            "rating",
            167,
            n_users=9000,
            n_items=4500,
            n_clusters=16,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
}
"""The eleventh frozen group: made after the component scale, before any later change."""

FROZEN12_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A twelfth frozen group, defined on 2026-12-03 before the grids of the flat sets with
    # log-normal and Pareto counts were looked at again for a change there (the misses
    # that remain), and before any such change was designed: six such sets (sparse,
    # denser, 40 weak clusters) and two checks of the rule as it is (flat binary data,
    # skewed Pareto counts). New seeds 170-177.
    "frozen12-flat-lognormal": (
        "frozen12",
        _synthetic(
            "lognormal",
            170,
            n_users=5000,
            n_items=2500,
            n_clusters=12,
            mean_interactions=9,
            popularity_exponent=0.25,
        ),
    ),
    "frozen12-flat-sparse-lognormal": (
        "frozen12",
        _synthetic(
            "lognormal",
            171,
            n_users=10000,
            n_items=5000,
            n_clusters=22,
            mean_interactions=5,
            popularity_exponent=0.3,
        ),
    ),
    "frozen12-flat-heavy": (
        "frozen12",
        _synthetic(
            "heavy",
            172,
            n_users=7000,
            n_items=3500,
            n_clusters=16,
            mean_interactions=7,
            popularity_exponent=0.2,
        ),
    ),
    "frozen12-flat-sparse-heavy": (
        "frozen12",
        _synthetic(
            "heavy",
            173,
            n_users=9500,
            n_items=4500,
            n_clusters=20,
            mean_interactions=5,
            popularity_exponent=0.3,
        ),
    ),
    "frozen12-clusters40-lognormal": (
        "frozen12",
        _synthetic(
            "lognormal",
            174,
            n_users=8000,
            n_items=4000,
            n_clusters=40,
            mean_interactions=7,
            popularity_exponent=0.4,
        ),
    ),
    "frozen12-flat-dense-lognormal": (
        "frozen12",
        _synthetic(
            "lognormal",
            175,
            n_users=3000,
            n_items=1500,
            n_clusters=10,
            mean_interactions=15,
            popularity_exponent=0.3,
        ),
    ),
    "frozen12-flat-binary": (
        "frozen12",
        _synthetic(
            "binary",
            176,
            n_users=6000,
            n_items=3000,
            n_clusters=15,
            mean_interactions=8,
            popularity_exponent=0.3,
        ),
    ),
    "frozen12-skewed-heavy": (
        "frozen12",
        _synthetic(
            "heavy",
            177,
            n_users=8000,
            n_items=2500,
            n_clusters=25,
            mean_interactions=10,
            popularity_exponent=1.0,
        ),
    ),
}
"""The twelfth frozen group: made after the fit-time work of 2026-12-03, before any change for
heavy-tailed counts on flat data."""

FROZEN13_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A thirteenth frozen group, defined on 2026-12-03 after the heavy-tail path was
    # scored, before any change to where it starts (its misses sat at s_70/s_1 near 0.3):
    # denser or less flat data with log-normal and Pareto counts, a steeper log-normal set
    # and a sparse flat one as checks of the path as it is, and Poisson counts near
    # s_70/s_1 0.3 as a check that other weights are left alone. New seeds 180-187.
    "frozen13-dense-lognormal": (
        "frozen13",
        _synthetic(
            "lognormal",
            180,
            n_users=3500,
            n_items=1800,
            n_clusters=10,
            mean_interactions=14,
            popularity_exponent=0.3,
        ),
    ),
    "frozen13-denser-lognormal": (
        "frozen13",
        _synthetic(
            "lognormal",
            181,
            n_users=2500,
            n_items=1200,
            n_clusters=8,
            mean_interactions=18,
            popularity_exponent=0.2,
        ),
    ),
    "frozen13-mid-lognormal": (
        "frozen13",
        _synthetic(
            "lognormal",
            182,
            n_users=5000,
            n_items=2500,
            n_clusters=12,
            mean_interactions=10,
            popularity_exponent=0.5,
        ),
    ),
    "frozen13-dense-heavy": (
        "frozen13",
        _synthetic(
            "heavy",
            183,
            n_users=3000,
            n_items=1500,
            n_clusters=10,
            mean_interactions=15,
            popularity_exponent=0.3,
        ),
    ),
    "frozen13-mid-heavy": (
        "frozen13",
        _synthetic(
            "heavy",
            184,
            n_users=5000,
            n_items=2500,
            n_clusters=14,
            mean_interactions=10,
            popularity_exponent=0.5,
        ),
    ),
    "frozen13-skew-lognormal": (
        "frozen13",
        _synthetic(
            "lognormal",
            185,
            n_users=6000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=9,
            popularity_exponent=0.8,
        ),
    ),
    "frozen13-flat-sparse-lognormal": (
        "frozen13",
        _synthetic(
            "lognormal",
            186,
            n_users=9000,
            n_items=4500,
            n_clusters=18,
            mean_interactions=6,
            popularity_exponent=0.3,
        ),
    ),
    "frozen13-dense-poisson": (
        "frozen13",
        _synthetic(
            "poisson",
            187,
            n_users=3000,
            n_items=1500,
            n_clusters=10,
            mean_interactions=15,
            popularity_exponent=0.3,
        ),
    ),
}
"""The thirteenth frozen group: made after the heavy-tail path, before any change to it."""


FROZEN14_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A fourteenth frozen group, defined on 2026-12-04 after the weak-signal check
    # (signal_energy, WEAK_SIGNAL, WEAK_SCALE) was fixed on the eight weak sets of the
    # earlier groups, before its grid was computed: weak clusters and steep popularity with
    # every kind of weight, and two checks just stronger than the weak sets. New seeds
    # 200-207.
    "frozen14-weak-binary": (
        "frozen14",
        _synthetic(
            "binary",
            200,
            n_users=5500,
            n_items=2800,
            n_clusters=16,
            mean_interactions=12,
            in_cluster=0.35,
        ),
    ),
    "frozen14-weak-poisson": (
        "frozen14",
        _synthetic(
            "poisson",
            201,
            n_users=4500,
            n_items=2000,
            n_clusters=22,
            mean_interactions=14,
            popularity_exponent=0.9,
            in_cluster=0.3,
        ),
    ),
    "frozen14-weak-rating": (
        "frozen14",
        _synthetic(
            "rating",
            202,
            n_users=6000,
            n_items=2500,
            n_clusters=18,
            mean_interactions=11,
            in_cluster=0.3,
        ),
    ),
    "frozen14-weak-heavy": (
        "frozen14",
        _synthetic(
            "heavy",
            203,
            n_users=5000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=12,
            in_cluster=0.3,
        ),
    ),
    "frozen14-skew18-binary": (
        "frozen14",
        _synthetic(
            "binary",
            204,
            n_users=7000,
            n_items=2800,
            n_clusters=12,
            mean_interactions=9,
            popularity_exponent=1.8,
            in_cluster=0.45,
        ),
    ),
    "frozen14-skew16-lognormal": (
        "frozen14",
        _synthetic(
            "lognormal",
            205,
            n_users=6000,
            n_items=2500,
            n_clusters=15,
            mean_interactions=9,
            popularity_exponent=1.6,
            in_cluster=0.5,
        ),
    ),
    "frozen14-mid-binary": (
        "frozen14",
        _synthetic(
            "binary",
            206,
            n_users=5000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=12,
            in_cluster=0.5,
        ),
    ),
    "frozen14-skew13-rating": (
        "frozen14",
        _synthetic(
            "rating",
            207,
            n_users=6000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=10,
            popularity_exponent=1.3,
            in_cluster=0.6,
        ),
    ),
}
"""The fourteenth frozen group: made after the weak-signal check, before its grid."""


FROZEN15_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A fifteenth frozen group, defined on 2026-12-04 after the weak-signal check was made
    # to undo the level factor of heavy-tailed counts (chosen on frozen14-weak-heavy, the
    # fourteenth group's miss), before its grid was computed: weak clusters and steep
    # popularity with Pareto and log-normal counts, where that change applies, and two
    # checks: clustered Pareto counts with a clear signal, and weak binary data (which the
    # change leaves alone). New seeds 210-217.
    "frozen15-weak-heavy": (
        "frozen15",
        _synthetic(
            "heavy",
            210,
            n_users=5500,
            n_items=2600,
            n_clusters=20,
            mean_interactions=12,
            in_cluster=0.35,
        ),
    ),
    "frozen15-weak-lognormal": (
        "frozen15",
        _synthetic(
            "lognormal",
            211,
            n_users=6000,
            n_items=2500,
            n_clusters=18,
            mean_interactions=11,
            in_cluster=0.3,
        ),
    ),
    "frozen15-weak-sparse-heavy": (
        "frozen15",
        _synthetic(
            "heavy",
            212,
            n_users=8000,
            n_items=3500,
            n_clusters=25,
            mean_interactions=8,
            in_cluster=0.3,
        ),
    ),
    "frozen15-skew17-heavy": (
        "frozen15",
        _synthetic(
            "heavy",
            213,
            n_users=7000,
            n_items=2500,
            n_clusters=15,
            mean_interactions=8,
            popularity_exponent=1.7,
            in_cluster=0.5,
        ),
    ),
    "frozen15-skew15-lognormal": (
        "frozen15",
        _synthetic(
            "lognormal",
            214,
            n_users=6500,
            n_items=2500,
            n_clusters=16,
            mean_interactions=9,
            popularity_exponent=1.5,
            in_cluster=0.45,
        ),
    ),
    "frozen15-weak-dense-lognormal": (
        "frozen15",
        _synthetic(
            "lognormal",
            215,
            n_users=4000,
            n_items=1500,
            n_clusters=20,
            mean_interactions=18,
            in_cluster=0.35,
        ),
    ),
    "frozen15-mid-heavy": (
        "frozen15",
        _synthetic(
            "heavy",
            216,
            n_users=5000,
            n_items=2500,
            n_clusters=20,
            mean_interactions=12,
            in_cluster=0.6,
        ),
    ),
    "frozen15-weak-binary": (
        "frozen15",
        _synthetic(
            "binary",
            217,
            n_users=6000,
            n_items=3000,
            n_clusters=18,
            mean_interactions=12,
            in_cluster=0.32,
        ),
    ),
}
"""The fifteenth frozen group: made after the weak check's heavy-count change, before its
grid."""


def _ml100k_frozen16(kind: str) -> Split:
    """MovieLens-100k subsets of the sixteenth frozen group (holdout seed 17):
    ``ge5-no-top100``, 5 stars without the items of 100 or more ratings; ``ge4-odd-users``,
    4 stars and up of the odd-numbered users; ``ratings-light``, ratings as weights of the
    users with at most 80 ratings; ``ge3-items40``, 3 stars and up of a seeded 40% of the
    items."""
    m = _ml100k_counts()
    user, item, rating = m.user, m.item, m.rating
    ids, counts, users, per_user = m.ids, m.counts, m.users, m.per_user
    weights = None
    if kind == "ge5-no-top100":
        keep = (rating >= 5.0) & np.isin(item, ids[counts < 100])
    elif kind == "ge4-odd-users":
        keep = (rating >= 4.0) & (user.astype(np.int64) % 2 == 1)
    elif kind == "ratings-light":
        keep = np.isin(user, users[per_user <= 80])
        weights = rating[keep]
    elif kind == "ge3-items40":
        chosen = np.random.default_rng(162).choice(ids, int(ids.size * 0.4), replace=False)
        keep = (rating >= 3.0) & np.isin(item, chosen)
    else:
        raise ValueError(kind)
    return _holdout(Interactions.from_arrays(user[keep], item[keep], weights), 17)


FROZEN16_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A sixteenth frozen group, defined on 2026-12-04 at 22:46 UTC before it was measured,
    # to test a cap of the spectral law on small matrices (the three-split check's
    # MovieLens miss); the cap was not written, as the group needed none. Small sparse
    # sets: four MovieLens-100k subsets and two synthetic sets, seeds 310-311.
    "f16-ml100k-ge5-no-top100": ("frozen16", lambda: _ml100k_frozen16("ge5-no-top100")),
    "f16-ml100k-ge4-odd-users": ("frozen16", lambda: _ml100k_frozen16("ge4-odd-users")),
    "f16-ml100k-ratings-light": ("frozen16", lambda: _ml100k_frozen16("ratings-light")),
    "f16-ml100k-ge3-items40": ("frozen16", lambda: _ml100k_frozen16("ge3-items40")),
    "f16-syn-small-rating": (
        "frozen16",
        _synthetic("rating", 310, n_users=1100, n_items=900, mean_interactions=14),
    ),
    "f16-syn-small-binary-skew": (
        "frozen16",
        _synthetic(
            "binary",
            311,
            n_users=1000,
            n_items=1000,
            mean_interactions=12,
            popularity_exponent=1.3,
        ),
    ),
}
"""The sixteenth frozen group: small sparse sets, made after the three-split check."""


def _ml100k_frozen17(kind: str) -> Split:
    """MovieLens-100k subsets of the seventeenth frozen group (holdout seed 23):
    ``ge4-no-top50``, 4 stars and up without the 50 most-rated items; ``ge3-light``, 3 stars
    and up of the users with at most 60 ratings; ``ratings-no-top100``, ratings as weights
    without the 100 most-rated items; ``ge4-items60``, 4 stars and up of a seeded 60% of
    the items."""
    m = _ml100k_counts()
    user, item, rating = m.user, m.item, m.rating
    ids, users, per_user, ranked = m.ids, m.users, m.per_user, m.ranked
    weights = None
    if kind == "ge4-no-top50":
        keep = (rating >= 4.0) & ~np.isin(item, ranked[:50])
    elif kind == "ge3-light":
        keep = (rating >= 3.0) & np.isin(user, users[per_user <= 60])
    elif kind == "ratings-no-top100":
        keep = ~np.isin(item, ranked[:100])
        weights = rating[keep]
    elif kind == "ge4-items60":
        chosen = np.random.default_rng(171).choice(ids, int(ids.size * 0.6), replace=False)
        keep = (rating >= 4.0) & np.isin(item, chosen)
    else:
        raise ValueError(kind)
    return _holdout(Interactions.from_arrays(user[keep], item[keep], weights), 23)


FROZEN17_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A seventeenth frozen group, defined on 2026-12-05 at 06:50 UTC while the share of
    # alpha="auto" (ALPHA_SHARE) was re-checked on the cached sets and before any change
    # of it, to score that change out of sample: four sparse MovieLens-100k subsets (the
    # kind of the last real miss) and four synthetic sets of new seeds 320-323 over a
    # range of densities and weights.
    "f17-ml100k-ge4-no-top50": ("frozen17", lambda: _ml100k_frozen17("ge4-no-top50")),
    "f17-ml100k-ge3-light": ("frozen17", lambda: _ml100k_frozen17("ge3-light")),
    "f17-ml100k-ratings-no-top100": ("frozen17", lambda: _ml100k_frozen17("ratings-no-top100")),
    "f17-ml100k-ge4-items60": ("frozen17", lambda: _ml100k_frozen17("ge4-items60")),
    "f17-syn-sparse-binary": (
        "frozen17",
        _synthetic("binary", 320, n_users=6000, n_items=3000, mean_interactions=7),
    ),
    "f17-syn-mid-poisson": (
        "frozen17",
        _synthetic("poisson", 321, n_users=3000, n_items=1500, mean_interactions=20, n_clusters=30),
    ),
    "f17-syn-skewed-rating": (
        "frozen17",
        _synthetic(
            "rating",
            322,
            n_users=4000,
            n_items=2500,
            mean_interactions=10,
            popularity_exponent=1.2,
        ),
    ),
    "f17-syn-dense-lognormal": (
        "frozen17",
        _synthetic("lognormal", 323, n_users=1200, n_items=600, mean_interactions=25),
    ),
}
"""The seventeenth frozen group: the out-of-sample check of the alpha share's re-check."""


def _ml100k_frozen18(kind: str) -> Split:
    """MovieLens-100k subsets of the eighteenth frozen group (holdout seed 29):
    ``ge4-light``, 4 stars and up of the users with at most 70 ratings; ``ge3-no-top150``,
    3 stars and up without the 150 most-rated items; ``ratings-light-items50``, ratings as
    weights of the users with at most 100 ratings, on a seeded half of the items;
    ``ge5-users70``, 5 stars of a seeded 70% of the users."""
    m = _ml100k_counts()
    user, item, rating = m.user, m.item, m.rating
    ids, users, per_user, ranked = m.ids, m.users, m.per_user, m.ranked
    weights = None
    if kind == "ge4-light":
        keep = (rating >= 4.0) & np.isin(user, users[per_user <= 70])
    elif kind == "ge3-no-top150":
        keep = (rating >= 3.0) & ~np.isin(item, ranked[:150])
    elif kind == "ratings-light-items50":
        chosen = np.random.default_rng(181).choice(ids, ids.size // 2, replace=False)
        keep = np.isin(user, users[per_user <= 100]) & np.isin(item, chosen)
        weights = rating[keep]
    elif kind == "ge5-users70":
        chosen = np.random.default_rng(182).choice(users, int(users.size * 0.7), replace=False)
        keep = (rating >= 5.0) & np.isin(user, chosen)
    else:
        raise ValueError(kind)
    return _holdout(Interactions.from_arrays(user[keep], item[keep], weights), 29)


FROZEN18_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # An eighteenth frozen group, defined on 2026-12-05 at 08:11 UTC before it was
    # measured and before the change it checks was written: a damping of the spectral
    # law above s_70/s_1 0.12 on data with skewed popularity at a low confidence level,
    # chosen on the 143 earlier sets. Four sparse MovieLens-100k subsets (the kind the
    # damping is for), three synthetic sets of that region (low alpha, skewed popularity)
    # and one sparse binary set at a high alpha, outside it; new seeds 330-333.
    "f18-ml100k-ge4-light": ("frozen18", lambda: _ml100k_frozen18("ge4-light")),
    "f18-ml100k-ge3-no-top150": ("frozen18", lambda: _ml100k_frozen18("ge3-no-top150")),
    "f18-ml100k-ratings-light-items50": (
        "frozen18",
        lambda: _ml100k_frozen18("ratings-light-items50"),
    ),
    "f18-ml100k-ge5-users70": ("frozen18", lambda: _ml100k_frozen18("ge5-users70")),
    "f18-syn-small-rating": (
        "frozen18",
        _synthetic("rating", 330, n_users=1500, n_items=1200, mean_interactions=12),
    ),
    "f18-syn-wide-binary": (
        "frozen18",
        _synthetic("binary", 331, n_users=900, n_items=2000, mean_interactions=30),
    ),
    "f18-syn-mid-poisson": (
        "frozen18",
        _synthetic("poisson", 332, n_users=2500, n_items=1200, mean_interactions=15, n_clusters=25),
    ),
    "f18-syn-skewed-binary": (
        "frozen18",
        _synthetic(
            "binary",
            333,
            n_users=5000,
            n_items=3000,
            mean_interactions=8,
            popularity_exponent=1.2,
        ),
    ),
}
"""The eighteenth frozen group: the out-of-sample check of the spectral law's damping."""


def _ml100k_frozen19(kind: str) -> Split:
    """MovieLens-100k subsets of the nineteenth frozen group (holdout seed 31):
    ``ratings-heavy-users``, ratings as weights of the users with 100 ratings or more;
    ``ge4-pairs60``, 4 stars and up of a seeded 60% of the ratings; ``ge3-items-ge20``, 3
    stars and up of the items with 20 ratings or more."""
    m = _ml100k_counts()
    user, item, rating = m.user, m.item, m.rating
    ids, counts, users, per_user = m.ids, m.counts, m.users, m.per_user
    weights = None
    if kind == "ratings-heavy-users":
        keep = np.isin(user, users[per_user >= 100])
        weights = rating[keep]
    elif kind == "ge4-pairs60":
        drawn = np.random.default_rng(191).random(user.size) < 0.6
        keep = (rating >= 4.0) & drawn
    elif kind == "ge3-items-ge20":
        keep = (rating >= 3.0) & np.isin(item, ids[counts >= 20])
    else:
        raise ValueError(kind)
    return _holdout(Interactions.from_arrays(user[keep], item[keep], weights), 31)


FROZEN19_DATASETS: dict[str, tuple[str, Callable[[], Split]]] = {
    # A nineteenth frozen group, defined on 2026-12-05 at 08:53 UTC after the damping's
    # last change and before it was measured, with no change of the rule in view: an
    # acceptance check over the kinds of the whole experiment (three MovieLens-100k
    # subsets; synthetic binary, ratings, Poisson, Pareto and log-normal counts, planted
    # clusters and weak clusters), new seeds 340-344.
    "f19-ml100k-ratings-heavy-users": (
        "frozen19",
        lambda: _ml100k_frozen19("ratings-heavy-users"),
    ),
    "f19-ml100k-ge4-pairs60": ("frozen19", lambda: _ml100k_frozen19("ge4-pairs60")),
    "f19-ml100k-ge3-items-ge20": ("frozen19", lambda: _ml100k_frozen19("ge3-items-ge20")),
    "f19-syn-clusters80-binary": (
        "frozen19",
        _synthetic("binary", 340, n_users=6000, n_items=3000, n_clusters=80, mean_interactions=7),
    ),
    "f19-syn-flat-lognormal": (
        "frozen19",
        _synthetic(
            "lognormal",
            341,
            n_users=4000,
            n_items=2000,
            mean_interactions=10,
            popularity_exponent=0.3,
        ),
    ),
    "f19-syn-skewed-heavy": (
        "frozen19",
        _synthetic(
            "heavy", 342, n_users=6000, n_items=2500, mean_interactions=8, popularity_exponent=1.3
        ),
    ),
    "f19-syn-weak-rating": (
        "frozen19",
        _synthetic("rating", 343, n_users=5000, n_items=2500, mean_interactions=9, in_cluster=0.3),
    ),
    "f19-syn-dense-poisson": (
        "frozen19",
        _synthetic("poisson", 344, n_users=2000, n_items=800, mean_interactions=40),
    ),
}
"""The nineteenth frozen group: an acceptance check made after the last change."""


LATER = {
    **FROZEN9_DATASETS,
    **FROZEN10_DATASETS,
    **FROZEN11_DATASETS,
    **FROZEN12_DATASETS,
    **FROZEN13_DATASETS,
    **FROZEN14_DATASETS,
    **FROZEN15_DATASETS,
    **FROZEN16_DATASETS,
    **FROZEN17_DATASETS,
    **FROZEN18_DATASETS,
    **FROZEN19_DATASETS,
}
"""The groups made after the excess check's level gate (the ninth) and later."""


CHECKED = {
    **FROZEN_DATASETS,
    **FROZEN2_DATASETS,
    **FROZEN3_DATASETS,
    **FROZEN4_DATASETS,
    **FROZEN5_DATASETS,
    **FROZEN6_DATASETS,
    **FROZEN7_DATASETS,
    **FROZEN8_DATASETS,
    **FROZEN9_DATASETS,
    **FROZEN10_DATASETS,
    **FROZEN11_DATASETS,
    **FROZEN12_DATASETS,
    **FROZEN13_DATASETS,
    **FROZEN14_DATASETS,
    **FROZEN15_DATASETS,
    **FROZEN16_DATASETS,
    **FROZEN17_DATASETS,
    **FROZEN18_DATASETS,
    **FROZEN19_DATASETS,
}
"""The out-of-sample groups: ``Recommender()`` scored by a real fit, a grid, an extended
sweep; left out of the forms and leave-one-out tables."""


# -- measurement ----------------------------------------------------------------------------------


def statistics_of(train: Interactions) -> dict[str, float]:
    """Cheap statistics of the training data: weights (linear, f(w) = w) and the masses of
    the default confidences ``c = 1 + w`` that the rule (and its alternatives) read."""
    matrix = sp.csr_matrix(train.matrix, dtype=np.float64)
    n_users, n_items = matrix.shape
    total = float(matrix.sum())
    conf = params_confidence(matrix, ALSParams(alpha=1.0)).astype(np.float64)
    rows = np.asarray(conf.sum(axis=1)).ravel()
    cols = np.asarray(conf.sum(axis=0)).ravel()
    mass = float(rows.sum())
    return {
        "n_users": n_users,
        "n_items": n_items,
        "nnz": int(matrix.nnz),
        "density": matrix.nnz / (n_users * n_items),
        "nnz_per_user": matrix.nnz / n_users,
        "nnz_per_item": matrix.nnz / n_items,
        "mean_weight": total / matrix.nnz,
        "weight_per_user": total / n_users,
        "weight_per_item": total / n_items,
        "max_weight": float(matrix.data.max()),
        # size-biased (E*) and plain means of the confidence mass per user / item
        "mass_user_sb": float(rows @ rows) / mass,
        "mass_item_sb": float(cols @ cols) / mass,
        "mass_user_mean": float(rows.mean()),
        "mass_item_mean": float(cols.mean()),
        "mean_confidence": mass / matrix.nnz,
        # s_70 / s_1 of the binary pattern (randomized, seeded; None below 160 rows)
        "spectral_ratio": spectral_ratio(conf) or float("nan"),
    }


def _model(
    factors: int, regularization: float, alpha: float, backend: str = "numpy"
) -> Recommender:
    return Recommender(
        factors=factors,
        regularization=regularization,
        alpha=alpha,
        random_state=0,
        num_threads=2,
        backend=backend,
    )


def score(
    split: Split, factors: int, regularization: float, alpha: float, backend: str = GRID_BACKEND
) -> float:
    train, test = split
    return ndcg_at_k(_model(factors, regularization, alpha, backend).fit(train), test, 10)


def fit_seconds(train: Interactions, rule: float, repeats: int = 5) -> tuple[float, float]:
    """Median fit time of the old default and of the rule (numpy backend, 64 factors).

    The two fits alternate, so both see the same machine load.
    """
    times: dict[float, list[float]] = {0.01: [], rule: []}
    for _ in range(repeats):
        for regularization in (0.01, rule):
            start = time.perf_counter()
            _model(64, regularization, 1.0).fit(train)
            times[regularization].append(time.perf_counter() - start)
    return statistics.median(times[0.01]), statistics.median(times[rule])


def key(factors: int, regularization: float, alpha: float) -> str:
    return f"f{factors}_r{regularization:g}_a{alpha:g}"


def run_dataset(
    name: str, build: Callable[[], Split], cache: dict[str, Any], *, grid_too: bool = True
) -> dict[str, Any]:
    entry: dict[str, Any] = cache.setdefault(name, {})
    split = build()
    entry["stats"] = statistics_of(split[0])
    scores: dict[str, float] = entry.setdefault("scores", {})

    def get(factors: int, regularization: float, alpha: float) -> float:
        k = key(factors, regularization, alpha)
        if k not in scores:
            scores[k] = score(split, factors, regularization, alpha)
        return scores[k]

    entry["sweep"] = {f"{r:g}": get(64, r, 1.0) for r in SWEEP}
    if name in CHECKED:  # extend the sweep down while its best is at the low end
        for k in range(3, -17, -1):  # eighth decades 2.37 .. 0.01
            sweep = entry["sweep"]
            lowest = sorted(sweep, key=float)[:2]
            if max(sweep, key=lambda r: sweep[r]) not in lowest:
                break
            low = float(f"{10 ** (k / 8):.4g}")
            sweep[f"{low:g}"] = get(64, low, 1.0)
    rule = auto_regularization(params_confidence(split[0].matrix, ALSParams(alpha=1.0)))
    with undamped():
        plain_rule = auto_regularization(params_confidence(split[0].matrix, ALSParams(alpha=1.0)))
    earlier = entry.get("rule")
    # The weak-signal check's factor (1 where it does not apply; the pattern's statistic,
    # the same under every alpha).
    entry["signal_energy"] = signal_energy(split[0].matrix)
    weak = weak_signal_factor(entry["signal_energy"])
    # What the rule gave before the weak-signal check, or before the heavy-tail path of
    # flat spectra (the earlier stages, "rule_before_plateau", "rule_before_excess",
    # "rule_before_flat", "rule_before_level", "before_level" and "before_guard", are
    # already recorded).
    if plain_rule != rule and "rule_before_damping" not in entry:
        # the damping of the spectral law (2026-12-05): the alpha-1 rule without it, scored
        # as "rule" is below (a set first measured after the damping has no earlier record)
        unrule = (
            ndcg_at_k(Recommender(alpha=1.0, regularization=plain_rule).fit(split[0]), split[1], 10)
            if name in CHECKED
            else score(split, 64, plain_rule, 1.0, "numpy")
        )
        entry["rule_before_damping"] = {"regularization": plain_rule, "ndcg": unrule}
    if earlier and earlier["regularization"] != rule:
        if plain_rule != rule or math.isclose(earlier["regularization"], plain_rule, rel_tol=1e-6):
            pass  # the damping's own move (or a change of it), recorded above
        elif weak != 1.0:
            entry.setdefault("rule_before_weak", dict(earlier))
        elif "rule_before_ramp" not in entry:
            entry["rule_before_ramp"] = dict(earlier)  # alpha 1, before the heavy-tail ramp
    if name in DATASETS or name in CHECKED:  # every default, alpha="auto" too: a real fit
        model = Recommender().fit(split[0])
        before = entry.get("defaults")
        # The damping of the spectral law (the last stage): where it moves the value, the
        # defaults without it, a real fit.
        with undamped():
            plain = resolve_params(ALSParams(), split[0].matrix)[0]
        damped = float(plain.regularization) != float(model.params_.regularization_value)
        if damped:
            undamped_model = Recommender(alpha=plain.alpha, regularization=plain.regularization)
            entry["before_damping"] = {
                "regularization": float(plain.regularization),
                "ndcg": ndcg_at_k(undamped_model.fit(split[0]), split[1], 10),
            }
        else:
            entry.pop("before_damping", None)
        if (
            before
            and not damped
            and weak == 1.0
            and "before_ramp" not in entry
            and before["regularization"] != float(model.params_.regularization_value)
        ):
            # scored before the heavy-tail path started at s_70/s_1 0.25 (the heavy-tail
            # path itself is recorded as "before_heavy")
            entry["before_ramp"] = before
        if name in FROZEN7_DATASETS and "unflat" not in entry:
            # the counterfactual: the rule without the flat multiple (a real fit too)
            conf = params_confidence(split[0].matrix, model.params_)
            multiple = spectral_scale(spectral_ratio(conf)) * level_factor(matrix_level(conf))
            value = auto_regularization(conf, scale=multiple)
            unflat = Recommender(alpha=model.params_.alpha_value, regularization=value)
            entry["unflat"] = {
                "regularization": value,
                "ndcg": ndcg_at_k(unflat.fit(split[0]), split[1], 10),
            }
        entry["defaults"] = {
            "alpha": float(model.params_.alpha_value),
            "regularization": float(model.params_.regularization_value),
            "ndcg": ndcg_at_k(model, split[1], 10),
        }
        # The weak-signal check (the last stage): where it applies, the defaults without
        # it, a real fit with the regularization divided by its factor.
        if weak != 1.0:
            # the factor at the resolved alpha's confidence level (it undoes a level
            # factor below 1 too)
            level = matrix_level(params_confidence(split[0].matrix, model.params_))
            factor = weak_signal_factor(entry["signal_energy"], level)
            value = float(model.params_.regularization_value) / factor
            unweak = Recommender(alpha=model.params_.alpha_value, regularization=value)
            entry["before_weak"] = {
                "regularization": value,
                "ndcg": ndcg_at_k(unweak.fit(split[0]), split[1], 10),
            }
        else:
            entry.pop("before_weak", None)
    if name in CHECKED:  # the regularization rule at alpha 1: a real fit
        default = Recommender(alpha=1.0).fit(split[0])
        resolved = float(default.params_.regularization_value)
        assert math.isclose(resolved, rule, rel_tol=1e-9), (resolved, rule)
        # (the first frozen group's rule before the guard is recorded as "before_guard")
        ratio = entry["stats"]["spectral_ratio"]
        if name in FROZEN2_DATASETS and "unguarded" not in entry and math.isfinite(ratio):
            # the counterfactual: the power law without the guard (a real fit too)
            conf = params_confidence(split[0].matrix, ALSParams())
            factor, exponent = UNGUARDED_LAW
            value = auto_regularization(conf, scale=factor * ratio**exponent)
            model = Recommender(regularization=value).fit(split[0])
            entry["unguarded"] = {"regularization": value, "ndcg": ndcg_at_k(model, split[1], 10)}
        entry["rule"] = {"regularization": resolved, "ndcg": ndcg_at_k(default, split[1], 10)}
        if grid_too:
            grid = {
                key(f, r, a): get(f, r, a) for f in FACTORS for r in REGULARIZATION for a in ALPHA
            }
            best = max(grid, key=lambda k: grid[k])
            entry["grid_best"] = {"params": best, "ndcg": grid[best]}
        return entry
    if (
        name in SIZE_DATASETS or name in FRESH_DATASETS
    ):  # no grid, no timing: the rule against the alpha-1 sweep
        entry["rule"] = {"regularization": rule, "ndcg": score(split, 64, rule, 1.0, "numpy")}
        return entry
    grid = {key(f, r, a): get(f, r, a) for f in FACTORS for r in REGULARIZATION for a in ALPHA}
    best = max(grid, key=lambda k: grid[k])
    entry["grid_best"] = {"params": best, "ndcg": grid[best]}
    entry["old_default"] = score(split, 64, 0.01, 1.0, "numpy")
    # The library's rule: what regularization="auto" resolves to at fit (alpha 1, linear).
    entry["rule"] = {"regularization": rule, "ndcg": score(split, 64, rule, 1.0, "numpy")}
    exact = Recommender(regularization=rule, random_state=0, num_threads=2, solver="cholesky")
    entry["rule"]["cholesky_ndcg"] = ndcg_at_k(exact.fit(split[0]), split[1], 10)
    if entry.get("time_rule_regularization") != rule or entry.get("time_method") != "alternating":
        entry["time_old"], entry["time_rule"] = fit_seconds(split[0], rule)
        entry["time_rule_regularization"] = rule
        entry["time_method"] = "alternating"
    return entry


TRANSFER_SPLITS = (1, 2)
"""The further holdout splits of the transfer check (seed ``seed + k`` of each set)."""


def _parse_key(params: str) -> tuple[int, float, float]:
    """``"f64_r146.8_a30"`` -> ``(64, 146.8, 30.0)`` (the inverse of :func:`key`)."""
    factors, regularization, alpha = params.split("_")
    return int(factors[1:]), float(regularization[1:]), float(alpha[1:])


def run_transfer(build: Callable[[], Split], entry: dict[str, Any]) -> None:
    """Is a miss the grid's luck on one split? ``Recommender()`` and the grid-best parameters
    of the first split, both trained on further splits of the same synthetic data
    (:data:`TRANSFER_SPLITS`) and scored on their test parts; for the synthetic sets below
    95% of the grid best now or before the component scale, and every set the heavy-tail
    path moved (MovieLens-100k variants have one fixed split). A cell scored before the
    heavy-tail path keeps that score as ``before_heavy`` when the rule now gives another
    value (cells scored before the component scale keep theirs as ``before_plateau``)."""
    if not isinstance(build, SyntheticSet) or "grid_best" not in entry or "defaults" not in entry:
        return
    bar = 0.95 * entry["grid_best"]["ndcg"]
    before = entry.get("before_plateau", entry["defaults"])
    moved = "before_heavy" in entry or "before_ramp" in entry  # every set the path moved
    hit = min(entry["defaults"]["ndcg"], before["ndcg"]) >= bar
    if "transfer" not in entry and hit and not moved:
        return
    factors, regularization, alpha = _parse_key(entry["grid_best"]["params"])
    done: dict[str, dict[str, float]] = entry.setdefault("transfer", {})
    for k in TRANSFER_SPLITS:
        cell = done.get(str(k))
        split = build.split(k)
        resolved = resolve_params(ALSParams(), split[0].matrix)[0].regularization_value
        if cell is not None and cell.get("regularization") == float(resolved):
            continue  # scored with this rule
        model = Recommender().fit(split[0])
        default = ndcg_at_k(model, split[1], 10)
        if cell is None:
            cell = {"grid": score(split, factors, regularization, alpha)}
        elif cell["defaults"] != default:
            key_before = "before_ramp" if "regularization" in cell else "before_plateau"
            if "before_weak" in entry:  # the weak-signal check moved this set
                key_before = "before_weak"
            cell.setdefault(key_before, cell["defaults"])
        cell["defaults"] = default
        cell["regularization"] = float(model.params_.regularization_value)
        done[str(k)] = cell


def transfer_table(cache: dict[str, Any]) -> str:
    """The transfer check: ``Recommender()`` as a share of the first split's grid-best
    parameters, on that split and on the further ones, now and before the heavy-tail
    path (``before_heavy``; the cells' scores before the component scale are kept as
    ``before_plateau``)."""
    lines = [
        "| dataset | grid best (split 0) | `Recommender()` share, split 0 | "
        + " | ".join(f"split {k}" for k in TRANSFER_SPLITS)
        + " | before the heavy-tail path: split 0 | "
        + " | ".join(f"split {k}" for k in TRANSFER_SPLITS)
        + " |",
        "|---|---|---|" + "---|" * (1 + 2 * len(TRANSFER_SPLITS)),
    ]
    shares: list[float] = []
    old: list[float] = []
    for name in CHECKED:
        e = cache.get(name, {})
        done = e.get("transfer")
        if not done:
            continue
        cells = [done[str(k)] for k in TRANSFER_SPLITS]
        further = [c["defaults"] / c["grid"] for c in cells]
        # before the heavy-tail path, a set the weak-signal check moved had its value
        # from before that check
        earlier = [
            c.get("before_heavy", c.get("before_weak", c["defaults"])) / c["grid"] for c in cells
        ]
        shares += further
        old += earlier
        first = e["defaults"]["ndcg"] / e["grid_best"]["ndcg"]
        first_old = e.get("before_heavy", e.get("before_weak", e["defaults"]))["ndcg"]
        first_old /= e["grid_best"]["ndcg"]
        lines.append(
            f"| {name} | {e['grid_best']['params']} | {first:.1%} | "
            + " | ".join(f"{x:.1%}" for x in further)
            + f" | {first_old:.1%} | "
            + " | ".join(f"{x:.1%}" for x in earlier)
            + " |"
        )
    if shares:
        lines.append(
            f"\n{len(shares)} further cells: {min(shares):.1%}-{max(shares):.1%}, "
            f"{sum(x >= 0.95 for x in shares)} at 95% or more (before the heavy-tail path: "
            f"{min(old):.1%}-{max(old):.1%}, {sum(x >= 0.95 for x in old)} at 95% or more)."
        )
    return "\n".join(lines)


def _sweep(entry: dict[str, Any]) -> dict[float, float]:
    """NDCG@10 by regularization at factors 64, alpha 1: the sweep plus the grid's points."""
    sweep = {float(k): v for k, v in entry["sweep"].items()}
    for k, v in entry.get("scores", {}).items():
        f, r, a = k.split("_")
        if f == "f64" and a == "a1":
            sweep.setdefault(float(r[1:]), v)
    return sweep


def table(cache: dict[str, Any]) -> str:
    """The results as a Markdown table (ratios are to the grid best)."""
    lines = [
        "| dataset | role | users x items, nnz | grid best (params) | old default | "
        "auto reg | auto | auto, cholesky | best reg at alpha 1 | fit time auto/old |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (role, _) in DATASETS.items():
        e = cache.get(name)
        if not e or "rule" not in e:
            continue
        s, best = e["stats"], e["grid_best"]["ndcg"]
        sweep = _sweep(e)
        top = max(sweep, key=lambda r: sweep[r])
        rule = e["rule"]
        lines.append(
            f"| {name} | {role} | {s['n_users']} x {s['n_items']}, {s['nnz']} | "
            f"{best:.4f} ({e['grid_best']['params']}) | "
            f"{e['old_default']:.4f} ({e['old_default'] / best:.0%}) | "
            f"{rule['regularization']:.3g} | {rule['ndcg']:.4f} ({rule['ndcg'] / best:.0%}) | "
            f"{rule['cholesky_ndcg'] / best:.0%} | {top:g} ({sweep[top] / best:.0%}) | "
            f"{e['time_rule'] / e['time_old']:.2f} |"
        )
    return "\n".join(lines)


def size_table(cache: dict[str, Any]) -> str:
    """The size checks: the rule against the best of the alpha-1 sweep."""
    lines = [
        "| dataset | users x items, nnz | best reg at alpha 1 (NDCG@10) | "
        "95% window | auto reg | auto (share of the sweep best) |",
        "|---|---|---|---|---|---|",
    ]
    for name in {**SIZE_DATASETS, **FRESH_DATASETS}:
        e = cache.get(name)
        if not e or "rule" not in e:
            continue
        s, sweep, rule = e["stats"], _sweep(e), e["rule"]
        top = max(sweep, key=lambda r: sweep[r])
        window = [r for r in sorted(sweep) if sweep[r] >= 0.95 * sweep[top]]
        lines.append(
            f"| {name} | {s['n_users']} x {s['n_items']}, {s['nnz']} | "
            f"{top:g} ({sweep[top]:.4f}) | {window[0]:g} - {window[-1]:g} | "
            f"{rule['regularization']:.3g} | {rule['ndcg']:.4f} ({rule['ndcg'] / sweep[top]:.0%}) |"
        )
    return "\n".join(lines)


def _sb(s: dict[str, float]) -> float:
    """The noise scale ``sqrt(E*d_u) + sqrt(E*d_i)`` of the default confidences."""
    return math.sqrt(s["mass_user_sb"]) + math.sqrt(s["mass_item_sb"])


def _forms() -> dict[str, tuple[Callable[[dict[str, float], float], float], tuple[float, ...]]]:
    """Candidate rules ``scale * form(stats, p)``, each with one shape parameter ``p``
    (no ``p``: the form is used as it is, scale 1)."""

    def plain(s: dict[str, float]) -> float:
        return math.sqrt(s["mass_user_mean"]) + math.sqrt(s["mass_item_mean"])

    def skew(s: dict[str, float]) -> float:
        return (s["mass_user_sb"] / s["mass_user_mean"]) * (s["mass_item_sb"] / s["mass_item_mean"])

    return {
        "0.8 (sqrt(E*d_u) + sqrt(E*d_i))  (the mass-only rule)": (
            lambda s, p: AUTO_SCALE * _sb(s),
            (),
        ),
        "sqrt(E*d_u) + sqrt(E*d_i)  (best constant scale)": (lambda s, p: _sb(s), (0.0,)),
        "... mixed with sqrt(mean d_u) + sqrt(mean d_i), weight p": (
            lambda s, p: (1 - p) * _sb(s) + p * plain(s),
            tuple(k / 20 for k in range(21)),
        ),
        "... times (popularity skew)^-p": (
            lambda s, p: _sb(s) * skew(s) ** -p,
            tuple(k / 40 - 0.5 for k in range(41)),
        ),
        "... times (mean confidence)^-p": (
            lambda s, p: _sb(s) * s["mean_confidence"] ** -p,
            tuple(k / 20 - 0.5 for k in range(31)),
        ),
        "constant * (mean confidence)^p  (no size term)": (
            lambda s, p: s["mean_confidence"] ** p,
            tuple(k / 20 for k in range(21)),
        ),
        "... times (s_70 / s_1 of the pattern)^p  (the spectral family)": (
            lambda s, p: _sb(s) * s["spectral_ratio"] ** p,
            tuple(k / 100 for k in range(0, 251, 2)),
        ),
        "7.17 (s_70 / s_1)^1.08 (sqrt(E*d_u) + sqrt(E*d_i))  (the rule as shipped)": (
            lambda s, p: spectral_scale(s["spectral_ratio"]) * _sb(s),
            (),
        ),
    }


_SCALES = np.exp(np.linspace(math.log(0.05), math.log(100.0), 800))


def _curves(
    cache: dict[str, Any], *, frozen: bool = False
) -> dict[str, tuple[np.ndarray, np.ndarray, dict[str, float]]]:
    """Share of the reference (grid best, or sweep best without a grid) by log regularization,
    for every dataset with a sweep that the shipped constants were fitted on (and the frozen
    sets too with ``frozen=True``)."""
    curves: dict[str, tuple[np.ndarray, np.ndarray, dict[str, float]]] = {}
    for name, e in cache.items():
        if "sweep" not in e or "spectral_ratio" not in e.get("stats", {}):
            continue
        if name in CHECKED and not frozen:
            continue
        sweep = _sweep(e)
        ref = e["grid_best"]["ndcg"] if "grid_best" in e else max(sweep.values())
        xs = np.log(np.array(sorted(sweep)))
        ys = np.array([sweep[r] / ref for r in sorted(sweep)])
        curves[name] = (xs, ys, e["stats"])
    return curves


def _shares(
    curves: dict[str, tuple[np.ndarray, np.ndarray, dict[str, float]]],
    form: Callable[[dict[str, float], float], float],
    params: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated shares, shape (len(params) or 1, scales, datasets), and the scales."""
    scales = _SCALES if params else np.ones(1)
    out = np.empty((len(params) or 1, scales.size, len(curves)))
    for i, p in enumerate(params or (0.0,)):
        for j, (xs, ys, st) in enumerate(curves.values()):
            out[i, :, j] = np.interp(np.log(scales * form(st, p)), xs, ys)
    return out, scales


def _best(shares: np.ndarray) -> tuple[int, int]:
    """The (p, scale) cell that maximizes the worst share (ties: the mean)."""
    key = shares.min(axis=2) + 1e-3 * shares.mean(axis=2)
    i, k = np.unravel_index(int(np.argmax(key)), key.shape)
    return int(i), int(k)


def forms(cache: dict[str, Any]) -> str:
    """How well could any rule of a given form do?

    Each form's scale and shape parameter are chosen on all datasets at once (which flatters
    every form) to maximize the worst share: NDCG@10 interpolated on the log-regularization
    sweep at alpha 1, as a share of the grid best (of the sweep best for the size checks).
    """
    curves = _curves(cache)
    lines = [
        "| form | scale | p | worst share | datasets >= 95% | worst datasets |",
        "|---|---|---|---|---|---|",
    ]
    for label, (form, params) in _forms().items():
        shares, scales = _shares(curves, form, params)
        i, k = _best(shares)
        best = shares[i, k]
        worst = sorted(zip(best, curves, strict=True))[:3]
        lines.append(
            f"| {label} | {scales[k]:.3g} | {(params or (0.0,))[i]:g} | {best.min():.0%} | "
            f"{int((best >= 0.95).sum())} of {best.size} | "
            + ", ".join(f"{n} {v:.0%}" for v, n in worst)
            + " |"
        )
    return "\n".join(lines)


def leave_one_out(cache: dict[str, Any]) -> str:
    """Each dataset scored by a rule whose constants were chosen without it.

    For the spectral family (scale and exponent) and the constant-scale rule: fit on all
    other datasets (maximize the worst interpolated share), then read the left-out
    dataset's interpolated share at the value so chosen. The shipped rule's interpolated
    share and its measured share (a real fit) stand next to them.
    """
    curves = _curves(cache)
    families = _forms()
    spectral = _shares(curves, *families[next(k for k in families if "spectral family" in k)])
    constant = _shares(curves, *families[next(k for k in families if "best constant" in k)])
    lines = [
        "| dataset | s_70/s_1 | auto reg | auto, measured | auto, interpolated | "
        "leave-one-out: spectral | leave-one-out: constant |",
        "|---|---|---|---|---|---|---|",
    ]
    for j, name in enumerate(curves):
        e, keep = cache[name], np.arange(len(curves)) != j
        loo = []
        for shares, _ in (spectral, constant):
            i, k = _best(shares[:, :, keep])
            loo.append(shares[i, k, j])
        xs, ys, st = curves[name]
        rule = spectral_scale(st["spectral_ratio"]) * _sb(st)
        ref = e["grid_best"]["ndcg"] if "grid_best" in e else max(_sweep(e).values())
        lines.append(
            f"| {name} | {st['spectral_ratio']:.3f} | {rule:.3g} | "
            f"{e['rule']['ndcg'] / ref:.1%} | {np.interp(math.log(rule), xs, ys):.1%} | "
            f"{loo[0]:.1%} | {loo[1]:.1%} |"
        )
    return "\n".join(lines)


def frozen_table(cache: dict[str, Any], group: str = "frozen") -> str:
    """A frozen out-of-sample check (``group`` "frozen", "frozen2", ... "frozen8"): the
    regularization rule at alpha 1 (``Recommender(alpha=1.0)``) against the alpha-1 sweep
    and the 70-point grid. The first group also shows what the rule gave before the guard
    on ``s_70/s_1``, which was chosen after seeing it; :func:`defaults_table` has every
    default (``alpha="auto"`` too)."""
    first = group == "frozen"
    extra = {
        "frozen": " before the guard: auto reg, share of grid best |",
        "frozen7": " `Recommender()` without the flat multiple: reg, share of grid best |",
        "frozen8": " `Recommender()` before the excess check: reg, share of grid best |",
        "frozen9": " `Recommender()` before the excess check: reg, share of grid best |",
    }.get(group, " unguarded law: reg, share of grid best |")
    lines = [
        "| dataset | users x items, nnz | s_70/s_1 | auto reg | best reg at alpha 1 "
        "(best / auto) | 95% window | `Recommender(alpha=1.0)` NDCG@10 | share of sweep best | "
        "grid best (params) | share of grid best |" + extra,
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = {
        "frozen": FROZEN_DATASETS,
        "frozen2": FROZEN2_DATASETS,
        "frozen3": FROZEN3_DATASETS,
        "frozen4": FROZEN4_DATASETS,
        "frozen5": FROZEN5_DATASETS,
        "frozen6": FROZEN6_DATASETS,
        "frozen7": FROZEN7_DATASETS,
        "frozen8": FROZEN8_DATASETS,
        "frozen9": FROZEN9_DATASETS,
        "frozen10": FROZEN10_DATASETS,
        "frozen11": FROZEN11_DATASETS,
        "frozen12": FROZEN12_DATASETS,
        "frozen13": FROZEN13_DATASETS,
    }
    for name in groups[group]:
        e = cache.get(name)
        if not e or "rule" not in e:
            continue
        s, sweep, rule = e["stats"], _sweep(e), e["rule"]
        top = max(sweep, key=lambda r: sweep[r])
        window = [r for r in sorted(sweep) if sweep[r] >= 0.95 * sweep[top]]
        grid = "not run | -"
        if "grid_best" in e:
            g = e["grid_best"]
            grid = f"{g['ndcg']:.4f} ({g['params']}) | {rule['ndcg'] / g['ndcg']:.1%}"
        old = e.get(
            {
                "frozen": "before_guard",
                "frozen7": "unflat",
                "frozen8": "before_excess",
                "frozen9": "before_excess",
                "frozen10": "before_plateau",
                "frozen11": "before_plateau",
                "frozen12": "before_heavy",
                "frozen13": "before_ramp",
            }.get(group, "unguarded")
        )
        before = " unchanged |" if first else " - |"
        if old and "grid_best" in e:
            share = old["ndcg"] / e["grid_best"]["ndcg"]
            before = f" {old['regularization']:.3g}, {share:.1%} |"
        lines.append(
            f"| {name} | {s['n_users']} x {s['n_items']}, {s['nnz']} | "
            f"{s['spectral_ratio']:.3f} | {rule['regularization']:.3g} | "
            f"{top:g} ({top / rule['regularization']:.2g}x) | {window[0]:g} - {window[-1]:g} | "
            f"{rule['ndcg']:.4f} | {rule['ndcg'] / sweep[top]:.1%} | {grid} |{before}"
        )
    return "\n".join(lines)


def defaults_table(cache: dict[str, Any]) -> str:
    """``Recommender()`` with every default against the 70-point grid on every dataset with
    a grid, next to the defaults before the heavy-tail path (``before_heavy``, scored
    before it), before the component scale of flat spectra
    (``before_plateau``, scored before it), before the spectral-excess check
    (``before_excess``, scored before it), without the flat-popularity multiple (``before_flat``,
    scored before it; on the seventh group ``unflat``, the same rule without it, a real
    fit), before the confidence-level factor (``before_level``: ``alpha="auto"`` and the
    regularization rule without either) and the regularization rule at alpha 1 before the
    factor (the defaults before ``alpha="auto"``)."""
    lines = [
        "| dataset | group | density | s_70/s_1 | auto alpha | auto reg | "
        "`Recommender()` NDCG@10 | grid best (params) | share of grid best | "
        "before the damping | before the weak check | before the heavy-tail path | "
        "before the component scale | "
        "before the excess check | "
        "without the flat multiple | "
        "before the level factor | "
        "alpha 1, no level factor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    shares: dict[str, list[float]] = {
        "now": [],
        "damping": [],
        "weak": [],
        "heavy": [],
        "plateau": [],
        "excess": [],
        "flat": [],
        "level": [],
        "alpha1": [],
    }
    for name in {**DATASETS, **CHECKED}:
        e = cache.get(name)
        if not e or "defaults" not in e or "grid_best" not in e:
            continue
        s, d, g = e["stats"], e["defaults"], e["grid_best"]
        share = d["ndcg"] / g["ndcg"]
        undamped_share = e.get("before_damping", d)["ndcg"] / g["ndcg"]
        # Each column falls back on the next later stage: a set that a stage did not change
        # has its value from after that stage.
        weak_entry = e.get("before_weak", e.get("before_damping", d))
        unweak = weak_entry["ndcg"] / g["ndcg"]
        heavy_entry = e.get("before_heavy", weak_entry)
        plateau_entry = e.get("before_plateau", heavy_entry)
        unheavy = heavy_entry["ndcg"] / g["ndcg"]
        excess_entry = e.get("before_excess", plateau_entry)
        flat_entry = e.get("before_flat", e.get("unflat", excess_entry))
        unplateau = plateau_entry["ndcg"] / g["ndcg"]
        unexcess = excess_entry["ndcg"] / g["ndcg"]
        unflat = flat_entry["ndcg"] / g["ndcg"]
        level = e.get("before_level", e.get("before_flat", excess_entry))["ndcg"] / g["ndcg"]
        # The sixth group was made after the level factor: its alpha-1 rule has the factor.
        made_after = name in {
            **FROZEN6_DATASETS,
            **FROZEN7_DATASETS,
            **FROZEN8_DATASETS,
            **LATER,
        } and ("rule_before_level" not in e)
        alpha1 = e.get(
            "rule_before_level",
            e.get(
                "rule_before_flat",
                e.get(
                    "rule_before_excess",
                    e.get("rule_before_plateau", e.get("rule_before_damping", e["rule"])),
                ),
            ),
        )
        alpha1 = alpha1["ndcg"] / g["ndcg"]
        if name in {**FROZEN7_DATASETS, **FROZEN8_DATASETS, **LATER}:
            level = math.nan  # made after the level factor
        if name in {**FROZEN8_DATASETS, **LATER}:
            unflat = math.nan  # made after the flat multiple
        if name in {
            **FROZEN10_DATASETS,
            **FROZEN11_DATASETS,
            **FROZEN12_DATASETS,
            **FROZEN13_DATASETS,
            **FROZEN14_DATASETS,
            **FROZEN15_DATASETS,
            **FROZEN16_DATASETS,
        }:
            unexcess = math.nan  # made after the excess check
        if name in {
            **FROZEN11_DATASETS,
            **FROZEN12_DATASETS,
            **FROZEN13_DATASETS,
            **FROZEN14_DATASETS,
            **FROZEN15_DATASETS,
            **FROZEN16_DATASETS,
        }:
            unplateau = math.nan  # made after the component scale
        if name in {**FROZEN14_DATASETS, **FROZEN15_DATASETS, **FROZEN16_DATASETS}:
            unheavy = math.nan  # made after the heavy-tail path
        for k, v in (
            ("now", share),
            ("damping", undamped_share),
            ("weak", unweak),
            ("heavy", unheavy),
            ("plateau", unplateau),
            ("excess", unexcess),
            ("flat", unflat),
            ("level", level),
            ("alpha1", alpha1),
        ):
            if math.isnan(v):
                continue
            if not (k == "alpha1" and made_after):
                shares[k].append(v)
        lines.append(
            f"| {name} | {e.get('role', '')} | {s['density']:.2%} | {s['spectral_ratio']:.3f} | "
            f"{d['alpha']:.3g} | {d['regularization']:.3g} | {d['ndcg']:.4f} | "
            f"{g['ndcg']:.4f} ({g['params']}) | {share:.1%} | {undamped_share:.1%} | "
            f"{unweak:.1%} | "
            f"{'n/a' if math.isnan(unheavy) else f'{unheavy:.1%}'} | "
            f"{'n/a' if math.isnan(unplateau) else f'{unplateau:.1%}'} | "
            f"{'n/a' if math.isnan(unexcess) else f'{unexcess:.1%}'} | "
            f"{'n/a' if math.isnan(unflat) else f'{unflat:.1%}'} | "
            f"{'n/a' if math.isnan(level) else f'{level:.1%}'} | "
            f"{'n/a' if made_after else f'{alpha1:.1%}'} |"
        )
    for k, label in (
        ("now", "Recommender()"),
        ("damping", "before the damping"),
        ("weak", "before the weak check"),
        ("heavy", "before the heavy-tail path"),
        ("plateau", "before the component scale"),
        ("excess", "before the excess check"),
        ("flat", "without the flat multiple"),
        ("level", "before the level factor"),
        ("alpha1", "alpha 1, no level factor"),
    ):
        x = shares[k]
        if x:
            lines.append(
                f"\n{label}: {sum(v >= 0.95 for v in x)} of {len(x)} at 95% or more; "
                f"lowest {min(x):.1%}, median {float(np.median(x)):.1%}."
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).parents[1] / "results" / "defaults-experiment.json"
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    parser.add_argument("--table", action="store_true", help="print the tables and exit")
    parser.add_argument(
        "--sweep-only", action="store_true", help="no 70-point grid for the frozen sets"
    )
    parser.add_argument(
        "--transfer",
        action="store_true",
        help="score the defaults' synthetic misses on further splits against the grid best",
    )
    args = parser.parse_args()
    cache: dict[str, Any] = {}
    if args.out.exists() and not args.fresh:
        cache = json.loads(args.out.read_text())
    if args.transfer:
        for name, (_, build) in CHECKED.items():
            if name in cache and (not args.only or name in args.only):
                run_transfer(build, cache[name])
                args.out.write_text(json.dumps(cache, indent=1, sort_keys=True))
        print(transfer_table(cache))
        return
    if not args.table:
        everything = {**DATASETS, **SIZE_DATASETS, **FRESH_DATASETS, **CHECKED}
        for name, (role, build) in everything.items():
            if args.only and name not in args.only:
                continue
            started = time.perf_counter()
            entry = run_dataset(name, build, cache, grid_too=not args.sweep_only)
            entry["role"] = role
            args.out.write_text(json.dumps(cache, indent=1, sort_keys=True))
            ref = (
                entry["grid_best"]["ndcg"] if "grid_best" in entry else max(entry["sweep"].values())
            )
            print(
                f"{name:26s} {role:8s} rule {entry['rule']['ndcg'] / ref:.3f} "
                f"(reg {entry['rule']['regularization']:.3g}) "
                f"[{time.perf_counter() - started:.0f} s]",
                flush=True,
            )
    print(
        table(cache),
        size_table(cache),
        forms(cache),
        leave_one_out(cache),
        frozen_table(cache),
        frozen_table(cache, "frozen2"),
        frozen_table(cache, "frozen3"),
        frozen_table(cache, "frozen4"),
        frozen_table(cache, "frozen5"),
        frozen_table(cache, "frozen6"),
        frozen_table(cache, "frozen7"),
        frozen_table(cache, "frozen8"),
        frozen_table(cache, "frozen9"),
        frozen_table(cache, "frozen10"),
        frozen_table(cache, "frozen11"),
        frozen_table(cache, "frozen12"),
        frozen_table(cache, "frozen13"),
        defaults_table(cache),
        transfer_table(cache),
        sep="\n\n",
    )


if __name__ == "__main__":
    main()
