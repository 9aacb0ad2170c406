"""The defaults on Spark: ``Recommender.fit_spark()`` against the grid best, split 0.

Spark trains ALS-WR: a row's penalty is ``lambda * n / s_ref`` (its count ``n`` over the
mean count ``s_ref``), not the constant ``lambda`` that ``regularization="auto"`` is sized
for. This script fits Spark (a local session, 2 cores) on split 0 of each named set of
``defaults_experiment.py`` with four values of ``lambda`` at the ``alpha="auto"`` of each
form, and divides NDCG@10 by the set's grid best (the numpy/implicit grid of the
experiment, constant penalty):

* *mass-only*: the mass-only form of the rule (``fit_spark(keep_seen=False)`` before
  2026-12-04, and ``fit_spark()`` before that date too);
* *whole rule*: the value of a local ``fit`` (the spectrum included);
* *fit_spark()*: what ships, the whole rule times
  :func:`alsrec.spark.engine.als_wr_share` (the triples collected for ``keep_seen``);
* *keep_seen=False*: what ships without the triples, the mass-only form times the share.

Command (about 12 minutes for the 14 default sets; needs ``alsrec[spark]`` and Java 17)::

    ALSREC_ML100K=.../ml-100k.inter python benchmarks/scripts/defaults_spark.py [set ...]
"""

from __future__ import annotations

import json
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import defaults_experiment as de
from defaults_mass_only import mass_only

from alsrec import ALSParams, Recommender
from alsrec.evaluation import ndcg_at_k
from alsrec.spark import local_session

SETS = (
    "ml100k-ge4",
    "syn-sparse-binary",
    "frozen11-flat-sparse-rating",
    "frozen8-flat-sparse-binary",
    "ml100k-ratings",
    "ml100k-ge3",
    "frozen3-ml100k-eq5",
    "syn-default-poisson",
    "syn-dense-binary",
    "syn-flat-rating",
    "syn-skewed-poisson",
    "frozen2-clusters40-binary",
    "frozen3-dense-lognormal",
    "frozen14-weak-binary",
)
"""The first four were measured (in a scratch run) before the share was written; the other
ten were named before any of them was measured on Spark."""

COLUMNS = ("mass-only", "whole rule", "fit_spark()", "keep_seen=False")


def main() -> None:
    import pandas as pd

    warnings.simplefilter("ignore")
    names = sys.argv[1:] or list(SETS)
    results = Path(__file__).parents[1] / "results"
    experiment: dict[str, Any] = json.loads((results / "defaults-experiment.json").read_text())
    sets = {**de.DATASETS, **de.CHECKED}
    shares: dict[str, list[float]] = {column: [] for column in COLUMNS}
    print("| dataset | " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 1))
    with local_session("local[2]", driver_memory="2g") as spark:
        for name in names:
            train, test = sets[name][1]()
            coo = train.matrix.tocoo()
            frame = pd.DataFrame(
                {
                    "u": np.asarray(train.users.ids)[coo.row],
                    "i": np.asarray(train.items.ids)[coo.col],
                    "w": coo.data.astype(np.float64),
                }
            )
            df = spark.createDataFrame(frame).cache()
            local = Recommender().fit(train).params_
            alpha, reg = mass_only(train.matrix)
            fixed = {
                "mass-only": ALSParams(alpha=alpha, regularization=reg),
                "whole rule": ALSParams(
                    alpha=local.alpha_value, regularization=local.regularization_value
                ),
            }
            models = {
                column: Recommender.fit_spark(df, "u", "i", "w", params=params)
                for column, params in fixed.items()
            }
            models["fit_spark()"] = Recommender.fit_spark(df, "u", "i", "w")
            models["keep_seen=False"] = Recommender.fit_spark(df, "u", "i", "w", keep_seen=False)
            seen = models["fit_spark()"].seen_  # the same training items excluded in all four
            lean = models["keep_seen=False"]
            models["keep_seen=False"] = Recommender.from_factors(
                lean.user_factors_, lean.item_factors_, lean.users_, lean.items_, seen=seen,
                params=lean.params_,
            )  # fmt: skip
            best = experiment[name]["grid_best"]["ndcg"]
            row = [ndcg_at_k(models[column], test, 10) / best for column in COLUMNS]
            for column, value in zip(COLUMNS, row, strict=True):
                shares[column].append(value)
            print(f"| {name} | " + " | ".join(f"{v:.1%}" for v in row) + " |", flush=True)
            df.unpersist()
    for column, values in shares.items():
        print(
            f"{column}: {sum(v >= 0.95 for v in values)} of {len(values)} at 95% or more, "
            f"median {statistics.median(values):.1%}, lowest {min(values):.1%}"
        )


if __name__ == "__main__":
    main()
