"""The defaults' mass-only form (``fit_spark(keep_seen=False)``) against the whole rule.

``regularization="auto"`` reads the spectrum of the observed pattern, which needs the
whole matrix in one process. ``fit_spark`` with ``keep_seen=False`` never brings the
matrix to the driver, so there the rule keeps what sums on the cluster can give: the
masses (noise scale), the flat-popularity multiple from the item masses, the confidence
level, and ``alpha="auto"`` from the totals alone (no heavy-tail move, which needs the
spectrum). This script computes those values locally for every grid set of
``defaults_experiment.py``, fits the numpy backend with them (64 factors, the defaults'
seed) on split 0, and divides its NDCG@10 by the grid best; the whole rule's share is read
from the experiment's cache. It measures the *values* of the two forms with one objective
(Spark itself trains ALS-WR, a count-scaled penalty; see the Spark guide).

Command (about 5 minutes on 2 cores)::

    ALSREC_ML100K=.../ml-100k.inter OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/scripts/defaults_mass_only.py
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).parent))
import defaults_experiment as de

from alsrec import Recommender
from alsrec.evaluation import ndcg_at_k
from alsrec.model.defaults import (
    AUTO_SCALE,
    alpha_from_totals,
    level_factor,
    popularity_scale,
    regularization_from_masses,
)
from alsrec.model.statistics import SPECTRAL_MIN_SIZE, matrix_level, popularity_gini


def mass_only(matrix: sp.csr_matrix) -> tuple[float, float]:
    """``(alpha, regularization)`` as the cluster path of ``fit_spark`` resolves them."""
    weights = sp.csr_matrix(matrix, dtype=np.float64)
    n_users, n_items = weights.shape
    alpha = alpha_from_totals(n_users, n_items, float(weights.data.sum()), n_pairs=weights.nnz)
    conf = weights.copy()
    conf.data = 1.0 + alpha * conf.data
    rows = np.asarray(conf.sum(axis=1)).ravel()
    cols = np.asarray(conf.sum(axis=0)).ravel()
    gini = popularity_gini(cols) if min(conf.shape) >= SPECTRAL_MIN_SIZE else None
    scale = popularity_scale(AUTO_SCALE, gini) * level_factor(matrix_level(conf))
    return alpha, regularization_from_masses(rows, cols, scale=scale)


def main() -> None:
    results = Path(__file__).parents[1] / "results"
    experiment: dict[str, Any] = json.loads((results / "defaults-experiment.json").read_text())
    sets = {**de.DATASETS, **de.CHECKED}
    shares: dict[str, tuple[float, float]] = {}
    for name, entry in experiment.items():
        if name not in sets or "grid_best" not in entry or "defaults" not in entry:
            continue
        train, test = sets[name][1]()
        alpha, reg = mass_only(train.matrix)
        model = Recommender(alpha=alpha, regularization=reg, random_state=0).fit(train)
        best = entry["grid_best"]["ndcg"]
        shares[name] = (ndcg_at_k(model, test, 10) / best, entry["defaults"]["ndcg"] / best)
        print(f"{name:36s} mass-only {shares[name][0]:.1%}  whole rule {shares[name][1]:.1%}")
    for i, label in enumerate(("mass-only form", "whole rule")):
        values = [pair[i] for pair in shares.values()]
        print(
            f"{label}: {sum(v >= 0.95 for v in values)} of {len(values)} sets at 95% of the "
            f"grid best or more; median {statistics.median(values):.1%}, lowest {min(values):.1%}"
        )


if __name__ == "__main__":
    main()
